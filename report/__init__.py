from . import collection_aging_report
from . import report_portfolio_status
