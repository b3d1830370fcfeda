-- Every catalog table carries its tenant (ADR 0030). The last one without it,
-- characteristic_definition, gets it from its specification, with the composite key
-- (tenant_id, product_specification_id) the other child tables already have (20261121000003).
-- Expand: add the column, backfill it, make it NOT NULL, add the key; the single-column key stays.

ALTER TABLE characteristic_definition ADD COLUMN tenant_id text;
-- Definitions refuse every update (immutable); the guard is off for the backfill only (this
-- transaction holds the table exclusively).
ALTER TABLE characteristic_definition DISABLE TRIGGER characteristic_definition_immutable;
UPDATE characteristic_definition d SET tenant_id = s.tenant_id
  FROM product_specification s WHERE s.product_specification_id = d.product_specification_id;
ALTER TABLE characteristic_definition ENABLE TRIGGER characteristic_definition_immutable;
ALTER TABLE characteristic_definition ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE characteristic_definition
    ADD CONSTRAINT characteristic_definition_tenant_fk FOREIGN KEY (tenant_id, product_specification_id)
        REFERENCES product_specification (tenant_id, product_specification_id);
