from . import collection_policy
from . import collection_stage
from . import res_company
from . import res_partner
from . import res_config_settings
from . import mail_activity
from . import account_move
from . import account_partial_reconcile
