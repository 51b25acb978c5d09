/** The demo's small, realistic shop: customers, products, orders with jsonb, numeric and timestamptz, a view, a sequence. */
export const SHOP_SQL = `
CREATE SEQUENCE order_number_seq START 100001;
CREATE TABLE customers (
  id serial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  country char(2) NOT NULL,
  signed_up_at timestamptz NOT NULL
);
CREATE TABLE products (
  id serial PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  title text NOT NULL,
  price numeric(10,2) NOT NULL CHECK (price >= 0),
  attributes jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE orders (
  id serial PRIMARY KEY,
  number bigint NOT NULL DEFAULT nextval('order_number_seq') UNIQUE,
  customer_id int NOT NULL REFERENCES customers(id),
  placed_at timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('placed', 'paid', 'shipped', 'refunded')),
  shipping jsonb
);
CREATE TABLE order_items (
  order_id int NOT NULL REFERENCES orders(id),
  product_id int NOT NULL REFERENCES products(id),
  quantity int NOT NULL CHECK (quantity > 0),
  unit_price numeric(10,2) NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
CREATE INDEX orders_customer_idx ON orders (customer_id, placed_at);
CREATE VIEW order_totals AS
  SELECT o.id, o.number, o.customer_id, o.placed_at, sum(i.quantity * i.unit_price) AS total
    FROM orders o JOIN order_items i ON i.order_id = o.id GROUP BY o.id;

INSERT INTO customers (email, name, country, signed_up_at)
SELECT 'customer' || g || '@example.com', (ARRAY['Ada', 'Grace', 'Linus', 'Zoë', 'Jürgen', 'Ayşe'])[1 + g % 6] || ' ' || g,
       (ARRAY['DE', 'FR', 'US', 'JP', 'BR'])[1 + g % 5], timestamptz '2025-01-01 09:00+01' + g * interval '7 hours'
  FROM generate_series(1, 500) g;
INSERT INTO products (sku, title, price, attributes)
SELECT 'SKU-' || lpad(g::text, 5, '0'), 'Product ' || g, round((3 + (g * 7.31) % 250)::numeric, 2),
       jsonb_build_object('color', (ARRAY['red', 'green', 'blue'])[1 + g % 3], 'weight_g', 100 + g * 3)
  FROM generate_series(1, 120) g;
INSERT INTO orders (customer_id, placed_at, status, shipping)
SELECT 1 + g % 500, timestamptz '2026-01-01 00:00+00' + g * interval '53 minutes',
       (ARRAY['placed', 'paid', 'shipped', 'refunded'])[1 + g % 4],
       jsonb_build_object('carrier', (ARRAY['DHL', 'UPS', 'La Poste'])[1 + g % 3], 'express', g % 7 = 0)
  FROM generate_series(1, 3000) g;
INSERT INTO order_items (order_id, product_id, quantity, unit_price)
SELECT o.id, 1 + (o.id * k) % 120, 1 + (o.id + k) % 4, p.price
  FROM orders o CROSS JOIN generate_series(1, 3) k JOIN products p ON p.id = 1 + (o.id * k) % 120
ON CONFLICT DO NOTHING;
`;
