from . import report_portfolio_status
