-- Replacing the items of a CONFIGURED or PRICED quote with valid ones is one command: EDIT_ITEMS
-- takes it to DRAFT and CONFIGURE_ITEMS on to CONFIGURED (the domain's QUOTE_TRANSITIONS), so
-- the row goes CONFIGURED -> CONFIGURED or PRICED -> CONFIGURED in one update. The guard listed
-- only the single steps and refused both with `quote_transition` (409 ILLEGAL_TRANSITION for a
-- seller changing a quantity). Same pairs as before, plus those two.

CREATE OR REPLACE FUNCTION quote_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (from_status, to_status) IN (
        ('DRAFT', 'DRAFT'), ('DRAFT', 'CONFIGURED'), ('DRAFT', 'EXPIRED'), ('DRAFT', 'CANCELLED'),
        ('CONFIGURED', 'DRAFT'), ('CONFIGURED', 'CONFIGURED'), ('CONFIGURED', 'PRICED'),
        ('CONFIGURED', 'EXPIRED'), ('CONFIGURED', 'CANCELLED'),
        ('PRICED', 'DRAFT'), ('PRICED', 'CONFIGURED'), ('PRICED', 'PRICED'), ('PRICED', 'SUBMITTED'),
        ('PRICED', 'APPROVED'), ('PRICED', 'APPROVAL_PENDING'), ('PRICED', 'EXPIRED'), ('PRICED', 'CANCELLED'),
        ('SUBMITTED', 'APPROVAL_PENDING'), ('SUBMITTED', 'APPROVED'), ('SUBMITTED', 'DRAFT'),
        ('SUBMITTED', 'EXPIRED'), ('SUBMITTED', 'CANCELLED'),
        ('APPROVAL_PENDING', 'APPROVED'), ('APPROVAL_PENDING', 'REJECTED'), ('APPROVAL_PENDING', 'DRAFT'),
        ('APPROVAL_PENDING', 'EXPIRED'), ('APPROVAL_PENDING', 'CANCELLED'),
        ('APPROVED', 'ACCEPTED'), ('APPROVED', 'DRAFT'), ('APPROVED', 'EXPIRED'), ('APPROVED', 'CANCELLED'),
        ('REJECTED', 'DRAFT'), ('REJECTED', 'EXPIRED'),
        ('ACCEPTED', 'CONVERTED'))
$$;
