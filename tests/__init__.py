from . import test_engine
from . import test_aging
from . import test_portfolio_report
from . import test_portfolio_weekly_report
