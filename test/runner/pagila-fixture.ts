/**
 * A pagila-like database for table restores: every table has something that depends on it or that it depends on,
 * as in the pagila sample, so replacing any one of them in place exercises what a real schema does.
 *
 * - foreign keys both ways: store.manager_staff_id → staff and staff.store_id → store (a cycle), and chains
 *   film → language, film_actor → film and actor, inventory → film and store, rental → inventory, customer, staff;
 * - views: film_list on film, film_actor and actor; film_list_short on film_list (a view on a view);
 *   customer_payments on the partitioned payment;
 * - payment, partitioned by range of payment_date into four partitions, with foreign keys from it to customer,
 *   staff and rental, an index on its parent (so each partition has an attached one) and a primary key;
 * - triggers: last_update on film, actor, customer (BEFORE UPDATE), and rental_audit_trg, which writes every
 *   change of rental into rental_audit (another table);
 * - film has a long text column (150 kB of rows in all);
 * - serial columns (owned sequences, whose values must come back), indexes beyond the keys (actor's last_name,
 *   film's title, rental's unique (rental_date, inventory_id, customer_id)).
 */
import type { PgCluster } from '../harness/postgres';

export const PAGILA_SCHEMA_SQL = `
CREATE FUNCTION public.last_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.last_update := '2030-01-01 00:00:00+00'; RETURN NEW; END $$;
CREATE TABLE public.language (language_id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE public.actor (actor_id serial PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL,
  last_update timestamptz NOT NULL DEFAULT '2026-01-01 00:00:00+00');
CREATE INDEX idx_actor_last_name ON public.actor (last_name);
CREATE TABLE public.film (film_id serial PRIMARY KEY, title text NOT NULL, description text, language_id integer NOT NULL REFERENCES public.language,
  rental_rate numeric(4,2) NOT NULL DEFAULT 4.99 CHECK (rental_rate >= 0), last_update timestamptz NOT NULL DEFAULT '2026-01-01 00:00:00+00');
CREATE INDEX idx_title ON public.film (title);
CREATE TABLE public.film_actor (actor_id integer NOT NULL REFERENCES public.actor ON UPDATE CASCADE,
  film_id integer NOT NULL REFERENCES public.film ON UPDATE CASCADE, PRIMARY KEY (actor_id, film_id));
CREATE TABLE public.store (store_id serial PRIMARY KEY, manager_staff_id integer);
CREATE TABLE public.staff (staff_id serial PRIMARY KEY, name text NOT NULL, store_id integer NOT NULL REFERENCES public.store);
ALTER TABLE public.store ADD CONSTRAINT store_manager_staff_id_fkey FOREIGN KEY (manager_staff_id) REFERENCES public.staff DEFERRABLE INITIALLY DEFERRED;
CREATE TABLE public.customer (customer_id serial PRIMARY KEY, store_id integer NOT NULL REFERENCES public.store,
  first_name text NOT NULL, last_name text NOT NULL, email text, active boolean NOT NULL DEFAULT true,
  last_update timestamptz NOT NULL DEFAULT '2026-01-01 00:00:00+00');
CREATE TABLE public.inventory (inventory_id serial PRIMARY KEY, film_id integer NOT NULL REFERENCES public.film,
  store_id integer NOT NULL REFERENCES public.store);
CREATE TABLE public.rental (rental_id serial PRIMARY KEY, rental_date timestamptz NOT NULL,
  inventory_id integer NOT NULL REFERENCES public.inventory, customer_id integer NOT NULL REFERENCES public.customer,
  staff_id integer NOT NULL REFERENCES public.staff);
CREATE UNIQUE INDEX idx_unq_rental ON public.rental (rental_date, inventory_id, customer_id);
CREATE TABLE public.rental_audit (audit_id serial PRIMARY KEY, rental_id integer NOT NULL, op text NOT NULL);
CREATE FUNCTION public.rental_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.rental_audit (rental_id, op) VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.rental_id ELSE NEW.rental_id END, TG_OP);
  RETURN NULL;
END $$;
CREATE TABLE public.payment (payment_id serial NOT NULL, customer_id integer NOT NULL REFERENCES public.customer,
  staff_id integer NOT NULL REFERENCES public.staff, rental_id integer NOT NULL REFERENCES public.rental,
  amount numeric(5,2) NOT NULL, payment_date timestamptz NOT NULL, PRIMARY KEY (payment_date, payment_id))
  PARTITION BY RANGE (payment_date);
CREATE TABLE public.payment_p2022_01 PARTITION OF public.payment FOR VALUES FROM ('2022-01-01 00:00:00+00') TO ('2022-02-01 00:00:00+00');
CREATE TABLE public.payment_p2022_02 PARTITION OF public.payment FOR VALUES FROM ('2022-02-01 00:00:00+00') TO ('2022-03-01 00:00:00+00');
CREATE TABLE public.payment_p2022_03 PARTITION OF public.payment FOR VALUES FROM ('2022-03-01 00:00:00+00') TO ('2022-04-01 00:00:00+00');
CREATE TABLE public.payment_p2022_04 PARTITION OF public.payment FOR VALUES FROM ('2022-04-01 00:00:00+00') TO ('2022-05-01 00:00:00+00');
CREATE INDEX idx_payment_customer ON public.payment (customer_id);
CREATE TRIGGER last_updated BEFORE UPDATE ON public.film FOR EACH ROW EXECUTE FUNCTION public.last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON public.actor FOR EACH ROW EXECUTE FUNCTION public.last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON public.customer FOR EACH ROW EXECUTE FUNCTION public.last_updated();
CREATE TRIGGER rental_audit_trg AFTER INSERT OR UPDATE OR DELETE ON public.rental FOR EACH ROW EXECUTE FUNCTION public.rental_audit();
CREATE VIEW public.film_list AS
  SELECT f.film_id, f.title, f.rental_rate, string_agg(a.first_name || ' ' || a.last_name, ', ' ORDER BY a.actor_id) AS actors
    FROM public.film f LEFT JOIN public.film_actor fa ON fa.film_id = f.film_id LEFT JOIN public.actor a ON a.actor_id = fa.actor_id
   GROUP BY f.film_id, f.title, f.rental_rate;
CREATE VIEW public.film_list_short AS SELECT film_id, title FROM public.film_list WHERE rental_rate < 3;
CREATE VIEW public.customer_payments AS
  SELECT c.customer_id, c.last_name, sum(p.amount) AS total
    FROM public.customer c JOIN public.payment p ON p.customer_id = c.customer_id GROUP BY c.customer_id, c.last_name;
`;

/** Deterministic rows in every table (the audit trigger fills rental_audit from rental's inserts). */
export const PAGILA_DATA_SQL = `
INSERT INTO public.language (name) VALUES ('English'), ('Italian'), ('Japanese');
INSERT INTO public.actor (first_name, last_name) SELECT 'First' || g, 'Last' || (g % 17) FROM generate_series(1, 40) g;
INSERT INTO public.film (title, description, language_id, rental_rate) SELECT 'Film ' || g, repeat(md5(g::text), 80), 1 + g % 3, (g % 5) + 0.99 FROM generate_series(1, 60) g;
INSERT INTO public.film_actor SELECT 1 + (g * 7) % 40, 1 + g % 60 FROM generate_series(1, 150) g ON CONFLICT DO NOTHING;
BEGIN;
INSERT INTO public.store (manager_staff_id) VALUES (1), (2);
INSERT INTO public.staff (name, store_id) VALUES ('Mike', 1), ('Jon', 2), ('Ann', 1);
COMMIT;
INSERT INTO public.customer (store_id, first_name, last_name, email) SELECT 1 + g % 2, 'C' || g, 'L' || g, 'c' || g || '@example.com' FROM generate_series(1, 80) g;
INSERT INTO public.inventory (film_id, store_id) SELECT 1 + g % 60, 1 + g % 2 FROM generate_series(1, 120) g;
INSERT INTO public.rental (rental_date, inventory_id, customer_id, staff_id)
  SELECT timestamptz '2022-01-01 00:00:00+00' + g * interval '7 hours', 1 + g % 120, 1 + g % 80, 1 + g % 3 FROM generate_series(1, 400) g;
INSERT INTO public.payment (customer_id, staff_id, rental_id, amount, payment_date)
  SELECT r.customer_id, r.staff_id, r.rental_id, 1.99 + (r.rental_id % 4), r.rental_date + interval '1 hour' FROM public.rental r
   WHERE r.rental_date < '2022-04-30 00:00:00+00';
`;

export async function createPagilaSource(pg: PgCluster, database = 'pagila'): Promise<void> {
  await pg.query(`CREATE DATABASE ${database}`);
  await pg.query(PAGILA_SCHEMA_SQL, database);
  await pg.query(PAGILA_DATA_SQL, database);
}
