"""Import every feature's models so that SQLAlchemy (and Alembic's autogenerate) sees the whole
schema. Imported by the app factory and by migrations/env.py."""

from hub.amazon import models as amazon_models  # noqa: F401
from hub.audit import models as audit_models  # noqa: F401
from hub.auth import models as auth_models  # noqa: F401
from hub.business import models as business_models  # noqa: F401
from hub.counter import models as counter_models  # noqa: F401
from hub.creditnotes import models as credit_note_models  # noqa: F401
from hub.credits import models as credit_models  # noqa: F401
from hub.intake import models as intake_models  # noqa: F401
from hub.items import models as item_models  # noqa: F401
from hub.ledger import models as ledger_models  # noqa: F401
from hub.orders import models as order_models  # noqa: F401
from hub.outbox import models as outbox_models  # noqa: F401
from hub.policy import models as policy_models  # noqa: F401
from hub.refunds import models as refund_models  # noqa: F401
from hub.returns import models as return_models  # noqa: F401
from hub.scan import models as scan_models  # noqa: F401
from hub.stock import models as stock_models  # noqa: F401
from hub.stores import models as store_models  # noqa: F401
from hub.vendor import models as vendor_models  # noqa: F401
from hub.vouchers import models as voucher_models  # noqa: F401
from hub.webhooks import models as webhook_models  # noqa: F401
