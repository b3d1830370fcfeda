-- Child rows carry their owner's tenant: a relationship, charge or history row can only belong
-- to a version of its own tenant (found by the edge tests: the owner keys did not include it).

ALTER TABLE product_offering_version
    ADD CONSTRAINT offering_version_tenant_key UNIQUE (tenant_id, product_offering_id, version);
ALTER TABLE offering_relationship
    ADD CONSTRAINT offering_relationship_owner_tenant_fk
    FOREIGN KEY (tenant_id, product_offering_id, version)
    REFERENCES product_offering_version (tenant_id, product_offering_id, version);
ALTER TABLE product_offering_history
    ADD CONSTRAINT product_offering_history_owner_tenant_fk
    FOREIGN KEY (tenant_id, product_offering_id, version)
    REFERENCES product_offering_version (tenant_id, product_offering_id, version);

ALTER TABLE price_book_version
    ADD CONSTRAINT price_book_version_tenant_key UNIQUE (tenant_id, price_book_id, version);
ALTER TABLE price_book_charge
    ADD CONSTRAINT price_book_charge_owner_tenant_fk
    FOREIGN KEY (tenant_id, price_book_id, version)
    REFERENCES price_book_version (tenant_id, price_book_id, version);
ALTER TABLE price_book_history
    ADD CONSTRAINT price_book_history_owner_tenant_fk
    FOREIGN KEY (tenant_id, price_book_id, version)
    REFERENCES price_book_version (tenant_id, price_book_id, version);

-- A charge prices an offering version of its own tenant.
ALTER TABLE price_book_charge
    ADD CONSTRAINT price_book_charge_offering_tenant_fk
    FOREIGN KEY (tenant_id, product_offering_id, offering_version)
    REFERENCES product_offering_version (tenant_id, product_offering_id, version);
