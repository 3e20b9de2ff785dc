from . import collection_aging_report
from . import collection_portfolio_work
from . import collection_portfolio_query
from . import collection_portfolio_report
from . import collection_portfolio_line
from . import collection_portfolio_delivery
from . import report_portfolio_status
