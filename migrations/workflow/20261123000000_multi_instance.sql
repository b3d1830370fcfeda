-- Parallel multi-instance service tasks (ADR 0039). A multi-instance activity waits in a
-- *body* element instance (boundary events attach to it; its local variable is the
-- outputCollection) and runs one *inner* element instance per element of the input collection,
-- each with its own job. Inner instances point at their body and carry their 1-based loop
-- counter; a body is the row of a multi-instance element without a loop counter.
-- Expand only: existing rows are neither bodies nor inner instances.
ALTER TABLE element_instance
    ADD COLUMN flow_scope_key bigint REFERENCES element_instance ON DELETE CASCADE,
    ADD COLUMN loop_counter integer CHECK (loop_counter > 0),
    ADD CONSTRAINT element_instance_inner_has_counter
        CHECK ((flow_scope_key IS NULL) = (loop_counter IS NULL));
CREATE INDEX element_instance_flow_scope_idx ON element_instance (flow_scope_key)
    WHERE flow_scope_key IS NOT NULL;
