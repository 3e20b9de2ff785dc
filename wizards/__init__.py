from . import collection_contact_wizard
from . import collection_exclusion_wizard
