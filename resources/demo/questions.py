"""Question families for the demo dataset.

Each family is a question pattern, its gold SQL and a query that yields the values to
fill in. The first ``dev`` instances go to dev, the rest (up to ``limit``) to train, so
train holds near-duplicates of dev questions with other values, as real data does.
``wrong`` is a plausible mistake used for the sample predictions file.
Gold SQL stays inside the Spider evaluator's grammar (aliases with AS, plain JOIN).
"""

from __future__ import annotations

from dataclasses import dataclass

NO_QUOTE = "NOT LIKE '%''%'"


@dataclass(frozen=True)
class Family:
    db_id: str
    question: str
    sql: str
    values_sql: str = ""
    wrong: str = ""
    limit: int = 12
    dev: int = 2


L, C, T, S = "library", "clinic", "transit", "shop"

FAMILIES: list[Family] = [
    # --- library --------------------------------------------------------------
    Family(
        L,
        "How many books in the {0} genre does the library hold?",
        "SELECT count(*) FROM book WHERE genre = '{0}'",
        "SELECT DISTINCT genre FROM book ORDER BY genre",
        "SELECT count(*) FROM book WHERE genre LIKE '%{0}%'",
    ),
    Family(
        L,
        "List the titles of books published after {0}.",
        "SELECT title FROM book WHERE published_year > {0}",
        "SELECT DISTINCT published_year FROM book WHERE published_year < 2020 ORDER BY published_year DESC",
        "SELECT title FROM book WHERE published_year >= {0}",
    ),
    Family(
        L,
        "Which books were written by {0}?",
        "SELECT T1.title FROM book AS T1 JOIN author AS T2 ON T1.author_id = T2.author_id WHERE T2.name = '{0}'",
        f"SELECT name FROM author WHERE name {NO_QUOTE} AND author_id IN (SELECT author_id FROM book) ORDER BY name",
        "SELECT title FROM book WHERE author_id = 1",
    ),
    Family(
        L,
        "What is the average number of pages of {0} books?",
        "SELECT avg(pages) FROM book WHERE genre = '{0}'",
        "SELECT DISTINCT genre FROM book ORDER BY genre DESC",
        "SELECT sum(pages) FROM book WHERE genre = '{0}'",
    ),
    Family(
        L,
        "How many loans has the member {0} made?",
        "SELECT count(*) FROM loan AS T1 JOIN member AS T2 ON T1.member_id = T2.member_id WHERE T2.name = '{0}'",
        f"SELECT name FROM member WHERE name {NO_QUOTE} ORDER BY member_id",
        "SELECT count(*) FROM member WHERE name = '{0}'",
    ),
    Family(
        L,
        "For each genre, how many books cost more than {0} dollars?",
        "SELECT genre, count(*) FROM book WHERE price > {0} GROUP BY genre",
        "SELECT DISTINCT CAST(price / 5 AS INTEGER) * 5 FROM book WHERE price > 10 AND price < 40 ORDER BY 1",
    ),
    Family(
        L,
        "Which members living in {0} have never borrowed a Poetry book?",
        "SELECT name FROM member WHERE city = '{0}' EXCEPT SELECT T2.name FROM loan AS T1 JOIN member AS T2 "
        "ON T1.member_id = T2.member_id JOIN book AS T3 ON T1.book_id = T3.book_id WHERE T3.genre = 'Poetry'",
        "SELECT city FROM member GROUP BY city HAVING count(*) >= 1 ORDER BY city",
        "SELECT name FROM member WHERE city = '{0}'",
    ),
    Family(
        L,
        "Which authors from {0} wrote a book longer than the average book?",
        "SELECT DISTINCT T2.name FROM book AS T1 JOIN author AS T2 ON T1.author_id = T2.author_id "
        "WHERE T2.country = '{0}' AND T1.pages > (SELECT avg(pages) FROM book)",
        "SELECT DISTINCT country FROM author ORDER BY country",
        "SELECT DISTINCT T2.name FROM book AS T1 JOIN author AS T2 ON T1.author_id = T2.author_id "
        "WHERE T2.country = '{0}'",
    ),
    Family(
        L,
        "What are the three most borrowed books in the {0} genre?",
        "SELECT T2.title FROM loan AS T1 JOIN book AS T2 ON T1.book_id = T2.book_id WHERE T2.genre = '{0}' "
        "GROUP BY T1.book_id ORDER BY count(*) DESC LIMIT 3",
        "SELECT DISTINCT genre FROM book ORDER BY genre",
        "SELECT T2.title FROM loan AS T1 JOIN book AS T2 ON T1.book_id = T2.book_id WHERE T2.genre = '{0}' "
        "GROUP BY T1.book_id ORDER BY count(*) ASC LIMIT 3",
    ),
    Family(
        L,
        "Which books priced under {0} dollars have been borrowed by members from Graz?",
        "SELECT title FROM book WHERE price < {0} AND book_id IN (SELECT T1.book_id FROM loan AS T1 JOIN member AS T2 "
        "ON T1.member_id = T2.member_id WHERE T2.city = 'Graz')",
        "SELECT DISTINCT CAST(price AS INTEGER) FROM book WHERE price > 20 ORDER BY 1",
    ),
    Family(
        L,
        "When did {0} join the library?",
        "SELECT joined_on FROM member WHERE name = '{0}'",
        f"SELECT name FROM member WHERE name {NO_QUOTE} ORDER BY member_id DESC",
    ),
    # --- clinic ---------------------------------------------------------------
    Family(
        C,
        "Which doctors has the patient {0} seen?",
        "SELECT DISTINCT T2.name FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id "
        "JOIN patient AS T3 ON T1.patient_id = T3.patient_id WHERE T3.name = '{0}'",
        f"SELECT name FROM patient WHERE name {NO_QUOTE} ORDER BY patient_id",
        "SELECT T2.name FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id",
    ),
    Family(
        C,
        "How many doctors specialise in {0}?",
        "SELECT count(*) FROM doctor WHERE specialty = '{0}'",
        "SELECT DISTINCT specialty FROM doctor ORDER BY specialty",
        "SELECT count(specialty) FROM doctor",
    ),
    Family(
        C,
        "List the names of patients who live in {0}.",
        "SELECT name FROM patient WHERE city = '{0}'",
        "SELECT DISTINCT city FROM patient ORDER BY city",
    ),
    Family(
        C,
        "What is the total fee charged by {0}?",
        "SELECT sum(T1.fee) FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id WHERE T2.name = '{0}'",
        f"SELECT name FROM doctor WHERE name {NO_QUOTE} ORDER BY doctor_id",
        "SELECT avg(T1.fee) FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id WHERE T2.name = '{0}'",
    ),
    Family(
        C,
        "Which patients were diagnosed with {0}? Give their names without repeats.",
        "SELECT DISTINCT T2.name FROM appointment AS T1 JOIN patient AS T2 ON T1.patient_id = T2.patient_id "
        "WHERE T1.diagnosis = '{0}'",
        "SELECT DISTINCT diagnosis FROM appointment WHERE diagnosis != '' ORDER BY diagnosis DESC",
    ),
    Family(
        C,
        "How many appointments did each doctor in {0} have?",
        "SELECT T2.name, count(*) FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id "
        "WHERE T2.specialty = '{0}' GROUP BY T1.doctor_id",
        "SELECT DISTINCT specialty FROM doctor ORDER BY specialty DESC",
        "SELECT T2.name FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id "
        "WHERE T2.specialty = '{0}'",
    ),
    Family(
        C,
        "Which patients insured by {0} were born before 1970?",
        "SELECT name FROM patient WHERE insurance = '{0}' AND birth_date < '1970-01-01'",
        "SELECT DISTINCT insurance FROM patient WHERE insurance != '' ORDER BY insurance",
        "SELECT name FROM patient WHERE insurance = '{0}' OR birth_date < '1970-01-01'",
    ),
    Family(
        C,
        "Which doctors have seen more than {0} different patients?",
        "SELECT T2.name FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id "
        "GROUP BY T1.doctor_id HAVING count(DISTINCT T1.patient_id) > {0}",
        "SELECT DISTINCT n FROM (SELECT count(DISTINCT patient_id) - 1 AS n FROM appointment GROUP BY doctor_id) "
        "ORDER BY n",
        "SELECT T2.name FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id "
        "GROUP BY T1.doctor_id HAVING count(*) > {0}",
    ),
    Family(
        C,
        "Which patients from {0} paid more than the average appointment fee at least once?",
        "SELECT DISTINCT T2.name FROM appointment AS T1 JOIN patient AS T2 ON T1.patient_id = T2.patient_id "
        "WHERE T2.city = '{0}' AND T1.fee > (SELECT avg(fee) FROM appointment)",
        "SELECT DISTINCT city FROM patient ORDER BY city",
    ),
    Family(
        C,
        "Which cities have patients seen by both a Cardiology and a {0} doctor?",
        "SELECT T3.city FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id JOIN patient AS T3 "
        "ON T1.patient_id = T3.patient_id WHERE T2.specialty = 'Cardiology' INTERSECT SELECT T3.city FROM appointment "
        "AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id JOIN patient AS T3 ON T1.patient_id = T3.patient_id "
        "WHERE T2.specialty = '{0}'",
        "SELECT DISTINCT specialty FROM doctor WHERE specialty != 'Cardiology' ORDER BY specialty",
    ),
    Family(
        C,
        "What are the names and visit dates of the {0} most expensive appointments?",
        "SELECT T2.name, T1.visit_date FROM appointment AS T1 JOIN patient AS T2 ON T1.patient_id = T2.patient_id "
        "ORDER BY T1.fee DESC LIMIT {0}",
        "SELECT DISTINCT value FROM (SELECT 1 AS value UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION "
        "SELECT 5 UNION SELECT 6 UNION SELECT 7 UNION SELECT 8) ORDER BY value",
        "SELECT T2.name, T1.visit_date FROM appointment AS T1 JOIN patient AS T2 ON T1.patient_id = T2.patient_id "
        "ORDER BY T1.fee LIMIT {0}",
    ),
    # --- transit --------------------------------------------------------------
    Family(
        T,
        "How many lines are operated as {0}?",
        "SELECT count(*) FROM line WHERE mode = '{0}'",
        "SELECT DISTINCT mode FROM line ORDER BY mode",
    ),
    Family(
        T,
        "Which stations are in the {0} district?",
        "SELECT name FROM station WHERE district = '{0}'",
        "SELECT DISTINCT district FROM station ORDER BY district",
        "SELECT name FROM station WHERE district != '{0}'",
    ),
    Family(
        T,
        "List the stations served by the {0}, in stop order.",
        "SELECT T2.name FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 "
        "ON T1.line_id = T3.line_id WHERE T3.name = '{0}' ORDER BY T1.stop_order",
        "SELECT name FROM line ORDER BY line_id",
        "SELECT T2.name FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 "
        "ON T1.line_id = T3.line_id WHERE T3.name = '{0}'",
    ),
    Family(
        T,
        "What was the largest number of passengers on a single {0} trip?",
        "SELECT max(T1.passengers) FROM trip AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id WHERE T2.name = '{0}'",
        "SELECT name FROM line ORDER BY name",
        "SELECT max(passengers) FROM trip",
    ),
    Family(
        T,
        "How many step-free stations does each district in which lines opened before {0} stop have?",
        "SELECT T2.district, count(DISTINCT T2.station_id) FROM stop AS T1 JOIN station AS T2 ON T1.station_id = "
        "T2.station_id JOIN line AS T3 ON T1.line_id = T3.line_id WHERE T3.opened_year < {0} AND T2.step_free = 1 "
        "GROUP BY T2.district",
        "SELECT DISTINCT opened_year + 1 FROM line ORDER BY opened_year DESC",
    ),
    Family(
        T,
        "What is the average delay of trips on {0} lines?",
        "SELECT avg(T1.delay_minutes) FROM trip AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id WHERE T2.mode = '{0}'",
        "SELECT DISTINCT mode FROM line ORDER BY mode DESC",
        "SELECT avg(delay_minutes) FROM trip",
    ),
    Family(
        T,
        "Which lines carried more than {0} passengers in total?",
        "SELECT T2.name FROM trip AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id GROUP BY T1.line_id "
        "HAVING sum(T1.passengers) > {0}",
        "SELECT DISTINCT (sum(passengers) / 1000) * 1000 FROM trip GROUP BY line_id ORDER BY 1",
    ),
    Family(
        T,
        "Which stations in the {0} district are not served by any tram line?",
        "SELECT name FROM station WHERE district = '{0}' AND station_id NOT IN (SELECT T1.station_id FROM stop AS T1 "
        "JOIN line AS T2 ON T1.line_id = T2.line_id WHERE T2.mode = 'Tram')",
        "SELECT DISTINCT district FROM station ORDER BY district",
    ),
    Family(
        T,
        "Which lines had a trip with more passengers than every trip of the {0}?",
        "SELECT DISTINCT T2.name FROM trip AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id WHERE T1.passengers > "
        "(SELECT max(T3.passengers) FROM trip AS T3 JOIN line AS T4 ON T3.line_id = T4.line_id WHERE T4.name = '{0}')",
        "SELECT name FROM line WHERE line_id IN (SELECT line_id FROM trip GROUP BY line_id HAVING max(passengers) < 390) "
        "ORDER BY name",
    ),
    Family(
        T,
        "Which stations are served by both the {0} and a bus line?",
        "SELECT T2.name FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 "
        "ON T1.line_id = T3.line_id WHERE T3.name = '{0}' INTERSECT SELECT T2.name FROM stop AS T1 JOIN station AS T2 "
        "ON T1.station_id = T2.station_id JOIN line AS T3 ON T1.line_id = T3.line_id WHERE T3.mode = 'Bus'",
        "SELECT DISTINCT T3.name FROM stop AS T1 JOIN stop AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 "
        "ON T1.line_id = T3.line_id JOIN line AS T4 ON T2.line_id = T4.line_id WHERE T4.mode = 'Bus' "
        "AND T3.mode != 'Bus' ORDER BY T3.name",
    ),
    Family(
        T,
        "Which lines stop at {0}?",
        "SELECT T3.name FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 "
        "ON T1.line_id = T3.line_id WHERE T2.name = '{0}'",
        f"SELECT name FROM station WHERE name {NO_QUOTE} ORDER BY station_id",
    ),
    # --- shop -----------------------------------------------------------------
    Family(
        S,
        "How many units of {0} are in stock?",
        "SELECT stock FROM product WHERE name = '{0}'",
        f"SELECT name FROM product WHERE name {NO_QUOTE} AND stock > 0 ORDER BY product_id",
        "SELECT count(*) FROM product WHERE name = '{0}'",
    ),
    Family(
        S,
        "How many customers are from {0}?",
        "SELECT count(*) FROM customer WHERE country = '{0}'",
        "SELECT DISTINCT country FROM customer ORDER BY country",
        "SELECT count(*) FROM customer",
    ),
    Family(
        S,
        "List the names and prices of products in the {0} category.",
        "SELECT name, unit_price FROM product WHERE category = '{0}'",
        "SELECT DISTINCT category FROM product ORDER BY category",
        "SELECT name FROM product WHERE category = '{0}'",
    ),
    Family(
        S,
        "Which products cost more than {0} dollars? Show the most expensive first.",
        "SELECT name FROM product WHERE unit_price > {0} ORDER BY unit_price DESC",
        "SELECT DISTINCT CAST(unit_price / 10 AS INTEGER) * 10 FROM product WHERE unit_price < 200 ORDER BY 1",
        "SELECT name FROM product WHERE unit_price > {0}",
    ),
    Family(
        S,
        "How many orders have the status {0}?",
        "SELECT count(*) FROM orders WHERE status = '{0}'",
        "SELECT DISTINCT status FROM orders ORDER BY status",
    ),
    Family(
        S,
        "What is the total quantity of {0} products ordered?",
        "SELECT sum(T1.quantity) FROM order_item AS T1 JOIN product AS T2 ON T1.product_id = T2.product_id "
        "WHERE T2.category = '{0}'",
        "SELECT DISTINCT category FROM product ORDER BY category DESC",
        "SELECT count(*) FROM order_item AS T1 JOIN product AS T2 ON T1.product_id = T2.product_id "
        "WHERE T2.category = '{0}'",
    ),
    Family(
        S,
        "For each status, how many orders did customers from {0} place?",
        "SELECT T1.status, count(*) FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id "
        "WHERE T2.country = '{0}' GROUP BY T1.status",
        "SELECT DISTINCT country FROM customer ORDER BY country DESC",
    ),
    Family(
        S,
        "Which customers have placed more than {0} orders?",
        "SELECT T2.name FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id "
        "GROUP BY T1.customer_id HAVING count(*) > {0}",
        "SELECT DISTINCT n FROM (SELECT count(*) - 1 AS n FROM orders GROUP BY customer_id) ORDER BY n",
        "SELECT T2.name FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id "
        "GROUP BY T1.customer_id HAVING count(*) >= {0}",
    ),
    Family(
        S,
        "Which products in the {0} category have never been ordered by a customer from Portugal?",
        "SELECT name FROM product WHERE category = '{0}' EXCEPT SELECT T2.name FROM order_item AS T1 JOIN product AS T2 "
        "ON T1.product_id = T2.product_id JOIN orders AS T3 ON T1.order_id = T3.order_id JOIN customer AS T4 "
        "ON T3.customer_id = T4.customer_id WHERE T4.country = 'Portugal'",
        "SELECT DISTINCT category FROM product ORDER BY category",
    ),
    Family(
        S,
        "Which customers from {0} have ordered a product that costs more than the average product?",
        "SELECT DISTINCT T3.name FROM order_item AS T1 JOIN orders AS T2 ON T1.order_id = T2.order_id JOIN customer AS "
        "T3 ON T2.customer_id = T3.customer_id WHERE T3.country = '{0}' AND T1.product_id IN (SELECT product_id FROM "
        "product WHERE unit_price > (SELECT avg(unit_price) FROM product))",
        "SELECT DISTINCT country FROM customer ORDER BY country",
    ),
    Family(
        S,
        "Which customers signed up before {0} and have an order that is neither delivered nor shipped?",
        "SELECT DISTINCT T2.name FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id "
        "WHERE T2.signup_date < '{0}' AND T1.status != 'Delivered' AND T1.status != 'Shipped' ORDER BY T2.name",
        "SELECT DISTINCT substr(signup_date, 1, 4) || '-07-01' FROM customer ORDER BY 1 DESC",
    ),
]
