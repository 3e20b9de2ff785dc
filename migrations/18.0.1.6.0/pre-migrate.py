"""18.0.1.6.0: each collection stage has a phase (collection.stage.phase), and an
invoice shows the phase of its stage (account.move.collection_phase, stored).

Both columns are added and filled here in two statements, before the ORM would
compute them record by record (on a large ledger, every invoice): a stage's
phase follows from its day offset as the compute says (up to the due date
preventive, from 30 days negotiation, administrative in between), and an
invoice takes its stage's."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        ALTER TABLE collection_stage ADD COLUMN IF NOT EXISTS phase varchar;
        UPDATE collection_stage
           SET phase = CASE WHEN day_offset <= 0 THEN 'preventive'
                            WHEN day_offset < 30 THEN 'administrative'
                            ELSE 'negotiation' END
         WHERE phase IS NULL;
        ALTER TABLE account_move ADD COLUMN IF NOT EXISTS collection_phase varchar;
        UPDATE account_move move
           SET collection_phase = stage.phase
          FROM collection_stage stage
         WHERE stage.id = move.collection_stage_id
           AND move.collection_phase IS DISTINCT FROM stage.phase;
        """
    )
