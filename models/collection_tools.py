"""Small helpers shared by the addon's models and wizards (no model here)."""

import logging

import psycopg2
from markupsafe import Markup

_logger = logging.getLogger(__name__)

# written only by the daily run and the collection wizards (with superuser rights,
# after their own rights checks): the ORM's public create/write refuse them
COLLECTION_PROTECTED_FIELDS = (
    "collection_stage_id",
    "collection_phase",
    "collection_excluded",
    "collection_exclusion_reason",
    "collection_error",
    "collection_error_date",
    "collection_date_due",
    "collection_promise_ids",
    "collection_contact_ids",
    "collection_mail_stage_id",
    "collection_mail_held",
    "collection_mail_date",
    "collection_mail_checked_date",
    "collection_paused_until",
)

COLLECTION_EXCLUSION_REASONS = [
    ("dispute", "Dispute"),
    ("agreement", "Payment Agreement"),
    ("legal", "Legal Action"),
    ("other", "Other"),
]


def without_defaults(records, fnames):
    """``records`` without the context's default values for ``fnames``: a caller's
    context is no way round the fields a user may not set."""
    context = records.env.context
    dropped = {f"default_{fname}" for fname in fnames}.intersection(context)
    if not dropped:
        return records
    # a new environment: with_context() can add keys, not remove them
    return records.with_env(
        records.env(
            context={key: value for key, value in context.items() if key not in dropped}
        )
    )


def run_isolated(records, process, on_error):
    """Run ``process(records)``; if it fails, run it record by record so that one
    record's failure, handed to ``on_error(record, error)``, does not stop the
    others. Each attempt runs in a savepoint: a failed one leaves nothing
    half-written. Concurrency errors are not isolated: the whole call must be
    retried (the scheduler does it)."""
    if not records:
        return
    cr = records.env.cr
    try:
        with cr.savepoint():
            process(records)
        return
    except psycopg2.OperationalError:
        raise
    except Exception:  # noqa: BLE001 - isolate the faulty records below
        _logger.info(
            "Collection run: a step failed on %s %s records, retrying one by one",
            len(records),
            records._name,
        )
    for record in records:
        try:
            with cr.savepoint():
                process(record)
        except psycopg2.OperationalError:
            raise
        except Exception as error:  # noqa: BLE001 - logged on the record
            on_error(record, error)


def log_failure(record, text, error):
    """Log a failure of the run in ``record``'s chatter (``text``, then the error)
    and in the server log. Logging never stops the run: when even the chatter
    cannot be written, the server log keeps it."""
    message = str(error) or error.__class__.__name__
    _logger.warning(
        "Collection run could not process %s %s (id %s): %s",
        record._description,
        record.display_name,
        record.id,
        message,
    )
    try:
        with record.env.cr.savepoint():
            record.sudo()._message_log(
                body=Markup("<p>%s</p><pre>%s</pre>") % (text, message)
            )
    except psycopg2.OperationalError:
        raise
    except Exception as log_error:  # noqa: BLE001 - the server log keeps it
        _logger.warning(
            "Collection run could not log the failure on %s (id %s): %s",
            record.display_name,
            record.id,
            log_error,
        )
