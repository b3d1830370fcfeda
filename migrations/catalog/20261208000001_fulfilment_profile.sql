-- The fulfilment profile of an offering version (ADR 0040): per item action, the task templates
-- the order service decomposes an order item into. It is part of the version's content, so it
-- lives on the version row: the guard trigger (offering_version_guard) compares the whole row
-- minus its lifecycle columns, which already freezes this column once the version leaves DRAFT.
-- One jsonb document rather than tables because it is read and written whole, always with its
-- version, and never queried by its parts; the service validates its shape before writing.
-- Expand only: a nullable column; versions written before it have no profile (NULL).

ALTER TABLE product_offering_version
    ADD COLUMN fulfilment_profile jsonb
        CONSTRAINT offering_version_fulfilment_profile_object
        CHECK (fulfilment_profile IS NULL OR jsonb_typeof(fulfilment_profile) = 'object');
