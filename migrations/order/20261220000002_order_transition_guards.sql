-- Order service (status guards): every status column of order_schema moves only along its
-- lifecycle table, and every row starts in one of its machine's initial states. The domain
-- (services/order/src/domain/*_status.rs) enforces the tables; these triggers are the last line
-- of defence against a bug or a hand-written UPDATE. Each `<machine>_transition_allowed`
-- function lists exactly its table's (from, to) pairs, the commands left out, plus from = to (an
-- update that does not change the status); the domain exports the same pairs
-- (`allowed_pairs()` in each status module) so a database test compares them pair by pair.
-- A refusal raises check_violation naming the machine and the pair; the constraint name
-- (`<machine>_status_transition`, `<machine>_initial_status`) lets the service map it.
-- The tables come from 20261220000001_order.sql. Every name is schema-qualified: trigger bodies
-- run with the caller's search_path.

---------------------------------------------------------------------------------------------
-- order: order_status.rs (OrderStatus)
---------------------------------------------------------------------------------------------
CREATE FUNCTION order_schema.order_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT from_status = to_status OR (from_status, to_status) IN (
        ('DRAFT', 'ACKNOWLEDGED'),
        ('ACKNOWLEDGED', 'VALIDATED'), ('ACKNOWLEDGED', 'FAILED'),
        ('ACKNOWLEDGED', 'CANCELLATION_PENDING'),
        ('VALIDATED', 'DECOMPOSED'), ('VALIDATED', 'FALLOUT'),
        ('VALIDATED', 'CANCELLATION_PENDING'),
        ('DECOMPOSED', 'IN_PROGRESS'), ('DECOMPOSED', 'CANCELLATION_PENDING'),
        ('IN_PROGRESS', 'PARTIALLY_COMPLETED'), ('IN_PROGRESS', 'COMPLETED'),
        ('IN_PROGRESS', 'HELD'), ('IN_PROGRESS', 'FALLOUT'),
        ('IN_PROGRESS', 'CANCELLATION_PENDING'),
        ('HELD', 'IN_PROGRESS'), ('HELD', 'CANCELLATION_PENDING'),
        ('PARTIALLY_COMPLETED', 'COMPLETED'), ('PARTIALLY_COMPLETED', 'FALLOUT'),
        ('PARTIALLY_COMPLETED', 'CANCELLATION_PENDING'),
        ('FALLOUT', 'IN_PROGRESS'), ('FALLOUT', 'CANCELLATION_PENDING'), ('FALLOUT', 'FAILED'),
        ('CANCELLATION_PENDING', 'CANCELLED'), ('CANCELLATION_PENDING', 'FALLOUT'),
        ('COMPLETED', 'CLOSED'),
        ('CANCELLED', 'CLOSED'),
        ('FAILED', 'CLOSED'))
$$;

CREATE FUNCTION order_schema.order_initial_status_allowed(status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT status IN ('DRAFT', 'ACKNOWLEDGED')
$$;

---------------------------------------------------------------------------------------------
-- order_item: item_status.rs (ItemStatus)
---------------------------------------------------------------------------------------------
CREATE FUNCTION order_schema.order_item_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT from_status = to_status OR (from_status, to_status) IN (
        ('PENDING', 'VALIDATED'), ('PENDING', 'SKIPPED'), ('PENDING', 'CANCEL_PENDING'),
        ('VALIDATED', 'READY'), ('VALIDATED', 'BLOCKED'), ('VALIDATED', 'SKIPPED'),
        ('VALIDATED', 'CANCEL_PENDING'),
        ('BLOCKED', 'READY'), ('BLOCKED', 'SKIPPED'), ('BLOCKED', 'FAILED'),
        ('BLOCKED', 'CANCEL_PENDING'),
        ('READY', 'IN_PROGRESS'), ('READY', 'SKIPPED'), ('READY', 'FAILED'),
        ('READY', 'CANCEL_PENDING'),
        ('IN_PROGRESS', 'COMPLETED'), ('IN_PROGRESS', 'FAILED'), ('IN_PROGRESS', 'CANCEL_PENDING'),
        ('FAILED', 'IN_PROGRESS'), ('FAILED', 'CANCEL_PENDING'), ('FAILED', 'COMPENSATING'),
        ('CANCEL_PENDING', 'CANCELLED'), ('CANCEL_PENDING', 'COMPENSATING'),
        ('COMPENSATING', 'COMPENSATED'))
$$;

CREATE FUNCTION order_schema.order_item_initial_status_allowed(status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT status IN ('PENDING')
$$;

---------------------------------------------------------------------------------------------
-- fulfilment_task: task_status.rs (TaskStatus)
---------------------------------------------------------------------------------------------
CREATE FUNCTION order_schema.fulfilment_task_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT from_status = to_status OR (from_status, to_status) IN (
        ('CREATED', 'WAITING_DEPENDENCY'), ('CREATED', 'READY'), ('CREATED', 'CANCELLED'),
        ('WAITING_DEPENDENCY', 'READY'), ('WAITING_DEPENDENCY', 'CANCELLED'),
        ('READY', 'DISPATCHED'), ('READY', 'CANCELLED'),
        ('DISPATCHED', 'IN_PROGRESS'), ('DISPATCHED', 'SUCCEEDED'),
        ('DISPATCHED', 'FAILED_RETRYABLE'), ('DISPATCHED', 'FAILED_NON_RETRYABLE'),
        ('DISPATCHED', 'TIMED_OUT'),
        ('IN_PROGRESS', 'SUCCEEDED'), ('IN_PROGRESS', 'FAILED_RETRYABLE'),
        ('IN_PROGRESS', 'FAILED_NON_RETRYABLE'), ('IN_PROGRESS', 'TIMED_OUT'),
        ('TIMED_OUT', 'SUCCEEDED'), ('TIMED_OUT', 'FAILED_RETRYABLE'),
        ('TIMED_OUT', 'FAILED_NON_RETRYABLE'),
        ('FAILED_RETRYABLE', 'SUCCEEDED'), ('FAILED_RETRYABLE', 'FAILED_NON_RETRYABLE'),
        ('FAILED_RETRYABLE', 'READY'), ('FAILED_RETRYABLE', 'CANCELLED'),
        ('FAILED_NON_RETRYABLE', 'CANCELLED'),
        ('SUCCEEDED', 'COMPENSATING'),
        ('COMPENSATING', 'COMPENSATED'))
$$;

CREATE FUNCTION order_schema.fulfilment_task_initial_status_allowed(status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT status IN ('CREATED', 'READY', 'WAITING_DEPENDENCY')
$$;

---------------------------------------------------------------------------------------------
-- product_instance: asset_status.rs (AssetStatus)
---------------------------------------------------------------------------------------------
CREATE FUNCTION order_schema.product_instance_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT from_status = to_status OR (from_status, to_status) IN (
        ('PENDING_ACTIVATION', 'ACTIVE'), ('PENDING_ACTIVATION', 'CANCELLED'),
        ('PENDING_ACTIVATION', 'ERROR'),
        ('ACTIVE', 'PENDING_MODIFICATION'), ('ACTIVE', 'SUSPENDED'),
        ('ACTIVE', 'PENDING_DISCONNECT'),
        ('PENDING_MODIFICATION', 'ACTIVE'), ('PENDING_MODIFICATION', 'ERROR'),
        ('SUSPENDED', 'ACTIVE'), ('SUSPENDED', 'PENDING_DISCONNECT'),
        ('PENDING_DISCONNECT', 'DISCONNECTED'), ('PENDING_DISCONNECT', 'ACTIVE'),
        ('PENDING_DISCONNECT', 'ERROR'),
        ('ERROR', 'ACTIVE'))
$$;

CREATE FUNCTION order_schema.product_instance_initial_status_allowed(status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT status IN ('PENDING_ACTIVATION')
$$;

---------------------------------------------------------------------------------------------
-- subscription: subscription_status.rs (SubscriptionStatus)
---------------------------------------------------------------------------------------------
CREATE FUNCTION order_schema.subscription_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT from_status = to_status OR (from_status, to_status) IN (
        ('PENDING_ACTIVATION', 'ACTIVE'), ('PENDING_ACTIVATION', 'CANCELLED'),
        ('ACTIVE', 'SUSPENDED'), ('ACTIVE', 'TERMINATED'), ('ACTIVE', 'ACTIVE'),
        ('SUSPENDED', 'ACTIVE'), ('SUSPENDED', 'TERMINATED'))
$$;

CREATE FUNCTION order_schema.subscription_initial_status_allowed(status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT status IN ('PENDING_ACTIVATION')
$$;

---------------------------------------------------------------------------------------------
-- One trigger function for the five tables; TG_ARGV[0] names the machine.
---------------------------------------------------------------------------------------------
CREATE FUNCTION order_schema.status_transition_allowed(machine text, from_status text, to_status text)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE machine
        WHEN 'order' THEN order_schema.order_transition_allowed(from_status, to_status)
        WHEN 'order_item' THEN order_schema.order_item_transition_allowed(from_status, to_status)
        WHEN 'fulfilment_task' THEN order_schema.fulfilment_task_transition_allowed(from_status, to_status)
        WHEN 'product_instance' THEN order_schema.product_instance_transition_allowed(from_status, to_status)
        WHEN 'subscription' THEN order_schema.subscription_transition_allowed(from_status, to_status)
    END
$$;

CREATE FUNCTION order_schema.initial_status_allowed(machine text, status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE machine
        WHEN 'order' THEN order_schema.order_initial_status_allowed(status)
        WHEN 'order_item' THEN order_schema.order_item_initial_status_allowed(status)
        WHEN 'fulfilment_task' THEN order_schema.fulfilment_task_initial_status_allowed(status)
        WHEN 'product_instance' THEN order_schema.product_instance_initial_status_allowed(status)
        WHEN 'subscription' THEN order_schema.subscription_initial_status_allowed(status)
    END
$$;

-- BEFORE INSERT: the row starts in an initial state. BEFORE UPDATE OF status: the move is in
-- the machine's table (or no move at all). A NULL answer (unknown status) is a refusal too.
CREATE FUNCTION order_schema.status_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    machine constant text := TG_ARGV[0];
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT coalesce(order_schema.initial_status_allowed(machine, NEW.status), false) THEN
            RAISE EXCEPTION '% cannot be created in status %', machine, NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = machine || '_initial_status';
        END IF;
    ELSIF NOT coalesce(order_schema.status_transition_allowed(machine, OLD.status, NEW.status), false) THEN
        RAISE EXCEPTION '% status % cannot become %', machine, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = machine || '_status_transition';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER customer_order_initial_status BEFORE INSERT ON order_schema.customer_order
    FOR EACH ROW EXECUTE FUNCTION order_schema.status_guard('order');
CREATE TRIGGER customer_order_status_transition BEFORE UPDATE OF status ON order_schema.customer_order
    FOR EACH ROW EXECUTE FUNCTION order_schema.status_guard('order');
CREATE TRIGGER order_item_initial_status BEFORE INSERT ON order_schema.order_item
    FOR EACH ROW EXECUTE FUNCTION order_schema.status_guard('order_item');
CREATE TRIGGER order_item_status_transition BEFORE UPDATE OF status ON order_schema.order_item
    FOR EACH ROW EXECUTE FUNCTION order_schema.status_guard('order_item');
CREATE TRIGGER fulfilment_task_initial_status BEFORE INSERT ON order_schema.fulfilment_task
    FOR EACH ROW EXECUTE FUNCTION order_schema.status_guard('fulfilment_task');
CREATE TRIGGER fulfilment_task_status_transition BEFORE UPDATE OF status ON order_schema.fulfilment_task
    FOR EACH ROW EXECUTE FUNCTION order_schema.status_guard('fulfilment_task');
CREATE TRIGGER product_instance_initial_status BEFORE INSERT ON order_schema.product_instance
    FOR EACH ROW EXECUTE FUNCTION order_schema.status_guard('product_instance');
CREATE TRIGGER product_instance_status_transition BEFORE UPDATE OF status ON order_schema.product_instance
    FOR EACH ROW EXECUTE FUNCTION order_schema.status_guard('product_instance');
CREATE TRIGGER subscription_initial_status BEFORE INSERT ON order_schema.subscription
    FOR EACH ROW EXECUTE FUNCTION order_schema.status_guard('subscription');
CREATE TRIGGER subscription_status_transition BEFORE UPDATE OF status ON order_schema.subscription
    FOR EACH ROW EXECUTE FUNCTION order_schema.status_guard('subscription');
