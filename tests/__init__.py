from . import test_engine
from . import test_customer_mail
from . import test_ui_tours
from . import test_i18n
