-- The orders API's tables, in the schema its SSM config names ("shop" here).
CREATE SCHEMA IF NOT EXISTS shop;

CREATE TABLE shop.products (
  sku         text PRIMARY KEY,
  name        text NOT NULL,
  price_cents integer NOT NULL CHECK (price_cents >= 0),
  stock       integer NOT NULL CHECK (stock >= 0)
);

CREATE TABLE shop.orders (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id text NOT NULL,
  total_cents integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_by_customer ON shop.orders (customer_id, id DESC);

CREATE TABLE shop.order_lines (
  order_id    bigint NOT NULL REFERENCES shop.orders (id),
  sku         text NOT NULL REFERENCES shop.products (sku),
  quantity    integer NOT NULL CHECK (quantity > 0),
  price_cents integer NOT NULL,
  PRIMARY KEY (order_id, sku)
);
