from . import test_engine
from . import test_reliability
from . import test_concurrency
from . import test_bad_input
from . import test_access
