-- The payments consumer's tables.
CREATE TABLE fx_rates (
  currency      char(3) PRIMARY KEY,
  -- Euro cents per unit of the currency's cents, scaled by 1e6.
  eur_per_unit  bigint NOT NULL
);

CREATE TABLE payments (
  -- The producer's id of the payment: a redelivered or duplicated message writes nothing twice.
  payment_id       text PRIMARY KEY,
  order_id         bigint NOT NULL,
  amount_cents     bigint NOT NULL CHECK (amount_cents > 0),
  currency         char(3) NOT NULL,
  amount_eur_cents bigint NOT NULL,
  message_id       text NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT now()
);
