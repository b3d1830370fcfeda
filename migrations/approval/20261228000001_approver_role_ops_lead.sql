-- Issue 24: the realm gains `ops-lead` (`domain_kernel::access::Role::OperationsLead`, ADR 0030),
-- so the approver directory accepts it like every other realm role name.
ALTER TABLE approver DROP CONSTRAINT approver_roles_known;
ALTER TABLE approver
    ADD CONSTRAINT approver_roles_known CHECK (
        approval_name_set_valid(roles, 64)
        AND roles <@ ARRAY['sales-agent', 'approver-manager', 'approver-director',
            'approver-finance', 'operator', 'ops-lead', 'auditor', 'partner', 'catalog-admin',
            'service', 'workflow-worker']::text[]);
