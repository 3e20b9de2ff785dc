from . import collection_aging_bucket
from . import collection_aging_line
from . import collection_aging_wizard
from . import collection_contact_wizard
from . import collection_exclusion_wizard
