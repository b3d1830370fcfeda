-- Every CPQ table carries its tenant (ADR 0030), child tables included, and a child row can only
-- belong to a parent of its own tenant: composite foreign keys (tenant_id, parent key), as the
-- catalog's 20261121000003 does. Expand: add the column, backfill it from the parent, make it
-- NOT NULL, add the keys. The single-column keys stay (a later release may drop them).

-- The parent keys the composite references point at.
ALTER TABLE quote ADD CONSTRAINT quote_tenant_key UNIQUE (tenant_id, quote_id);

-- Items. The frozen-configuration guard refuses every update of a FROZEN item, the backfill's
-- included; it is off for the backfill only (this transaction holds the table exclusively).
ALTER TABLE quote_item ADD COLUMN tenant_id text;
ALTER TABLE quote_item DISABLE TRIGGER quote_item_guard;
UPDATE quote_item i SET tenant_id = q.tenant_id FROM quote q WHERE q.quote_id = i.quote_id;
ALTER TABLE quote_item ENABLE TRIGGER quote_item_guard;
ALTER TABLE quote_item ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE quote_item
    ADD CONSTRAINT quote_item_tenant_fk FOREIGN KEY (tenant_id, quote_id) REFERENCES quote (tenant_id, quote_id),
    ADD CONSTRAINT quote_item_tenant_key UNIQUE (tenant_id, quote_id, revision, item_id);

-- Price snapshots (a frozen snapshot refuses every update: same treatment).
ALTER TABLE quote_price_snapshot ADD COLUMN tenant_id text;
ALTER TABLE quote_price_snapshot DISABLE TRIGGER quote_price_snapshot_guard;
UPDATE quote_price_snapshot s SET tenant_id = q.tenant_id FROM quote q WHERE q.quote_id = s.quote_id;
ALTER TABLE quote_price_snapshot ENABLE TRIGGER quote_price_snapshot_guard;
ALTER TABLE quote_price_snapshot ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE quote_price_snapshot
    ADD CONSTRAINT quote_price_snapshot_tenant_fk FOREIGN KEY (tenant_id, quote_id) REFERENCES quote (tenant_id, quote_id);

-- Overrides belong to an item of their own tenant (and go with it, as before).
ALTER TABLE quote_price_override ADD COLUMN tenant_id text;
UPDATE quote_price_override o SET tenant_id = q.tenant_id FROM quote q WHERE q.quote_id = o.quote_id;
ALTER TABLE quote_price_override ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE quote_price_override
    ADD CONSTRAINT quote_price_override_tenant_fk FOREIGN KEY (tenant_id, quote_id, revision, item_id)
        REFERENCES quote_item (tenant_id, quote_id, revision, item_id) ON DELETE CASCADE;

-- History and conversion had the column but referenced the quote by id alone.
ALTER TABLE quote_history
    ADD CONSTRAINT quote_history_tenant_fk FOREIGN KEY (tenant_id, quote_id) REFERENCES quote (tenant_id, quote_id);
ALTER TABLE quote_conversion
    ADD CONSTRAINT quote_conversion_tenant_fk FOREIGN KEY (tenant_id, quote_id) REFERENCES quote (tenant_id, quote_id);
