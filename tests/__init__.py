from . import test_engine
from . import test_promises
from . import test_contacts
from . import test_exclusion
from . import test_worklist
from . import test_collection_access
