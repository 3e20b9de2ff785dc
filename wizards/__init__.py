from . import collection_aging_bucket
from . import collection_aging_line
from . import collection_aging_wizard
