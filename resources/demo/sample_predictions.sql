SELECT count(*) FROM book WHERE genre LIKE '%History%'
SELECT count(*) FROM book WHERE genre = 'Mystery'
SELECT title FROM book WHERE published_year >= 2018
SELECT title FROM book WHERE published_year > 2015
SELECT title FROM book WHERE author_id = 1
SELECT T1.title FROM book AS T1 JOIN author AS T2 ON T1.author_id = T2.author_id WHERE T2.name = 'Chioma van der Berg'
SELECT sum(pages) FROM book WHERE genre = 'Travel'
SELECT avg(pages) FROM book WHERE genre = 'Sci-Fi'
SELECT count(*) FROM member WHERE name = 'Quinn Okafor'
SELECT count(*) FROM loan AS T1 JOIN member AS T2 ON T1.member_id = T2.member_id WHERE T2.name = 'Quinn Haddad'
SELECT genre, count(*) FROM book WHERE price > 10 GROUP BY genre
SELECT genre, count(*) FROM book WHERE price > 15 GROUP BY genre
SELECT name FROM member WHERE city = 'Bilbao'
SELECT name FROM member WHERE city = 'Gdansk' EXCEPT SELECT T2.name FROM loan AS T1 JOIN member AS T2 ON T1.member_id = T2.member_id JOIN book AS T3 ON T1.book_id = T3.book_id WHERE T3.genre = 'Poetry'
SELECT DISTINCT T2.name FROM book AS T1 JOIN author AS T2 ON T1.author_id = T2.author_id WHERE T2.country = 'Austria'
SELECT DISTINCT T2.name FROM book AS T1 JOIN author AS T2 ON T1.author_id = T2.author_id WHERE T2.country = 'Finland' AND T1.pages > (SELECT avg(pages) FROM book)
SELECT T2.title FROM loan AS T1 JOIN book AS T2 ON T1.book_id = T2.book_id WHERE T2.genre = 'History' GROUP BY T1.book_id ORDER BY count(*) ASC LIMIT 3
SELECT T2.title FROM loan AS T1 JOIN book AS T2 ON T1.book_id = T2.book_id WHERE T2.genre = 'Mystery' GROUP BY T1.book_id ORDER BY count(*) DESC LIMIT 3
SELECT title FROM book WHERE price < 21 AND book_id IN (SELECT T1.book_id FROM loan AS T1 JOIN member AS T2 ON T1.member_id = T2.member_id WHERE T2.city = 'Graz')
SELECT title FROM book WHERE price < 23 AND book_id IN (SELECT T1.book_id FROM loan AS T1 JOIN member AS T2 ON T1.member_id = T2.member_id WHERE T2.city = 'Graz')
SELECT joined_on FROM member WHERE name = 'Priya McAllister'
SELECT joined_on FROM member WHERE name = 'Nadia Petrov'
SELECT T2.name FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id
SELECT DISTINCT T2.name FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id JOIN patient AS T3 ON T1.patient_id = T3.patient_id WHERE T3.name = 'Hiro Ivanova'
SELECT count(specialty) FROM doctor
SELECT count(*) FROM doctor WHERE specialty = 'Dermatology'
SELECT name FROM patient WHERE city = 'Bilbao'
SELECT name FROM patient WHERE city = 'Gdansk'
SELECT avg(T1.fee) FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id WHERE T2.name = 'Dr. Elena Petrov'
SELECT sum(T1.fee) FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id WHERE T2.name = 'Dr. Rosa Okafor'
SELECT DISTINCT T2.name FROM appointment AS T1 JOIN patient AS T2 ON T1.patient_id = T2.patient_id WHERE T1.diagnosis = 'Migraine'
SELECT DISTINCT T2.name FROM appointment AS T1 JOIN patient AS T2 ON T1.patient_id = T2.patient_id WHERE T1.diagnosis = 'Influenza'
SELECT T2.name FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id WHERE T2.specialty = 'Pediatrics'
SELECT T2.name, count(*) FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id WHERE T2.specialty = 'Neurology' GROUP BY T1.doctor_id
SELECT name FROM patient WHERE insurance = 'CareWell' OR birth_date < '1970-01-01'
SELECT name FROM patient WHERE insurance = 'HealthFirst' AND birth_date < '1970-01-01'
SELECT T2.name FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id GROUP BY T1.doctor_id HAVING count(*) > 9
SELECT T2.name FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id GROUP BY T1.doctor_id HAVING count(DISTINCT T1.patient_id) > 10
SELECT DISTINCT T2.name FROM appointment AS T1 JOIN patient AS T2 ON T1.patient_id = T2.patient_id WHERE T2.city = 'Bilbao' AND T1.fee > (SELECT avg(fee) FROM appointment)
SELECT DISTINCT T2.name FROM appointment AS T1 JOIN patient AS T2 ON T1.patient_id = T2.patient_id WHERE T2.city = 'Gdansk' AND T1.fee > (SELECT avg(fee) FROM appointment)
SELECT T3.city FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id JOIN patient AS T3 ON T1.patient_id = T3.patient_id WHERE T2.specialty = 'Cardiology' INTERSECT SELECT T3.city FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id JOIN patient AS T3 ON T1.patient_id = T3.patient_id WHERE T2.specialty = 'Dermatology'
SELECT T3.city FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id JOIN patient AS T3 ON T1.patient_id = T3.patient_id WHERE T2.specialty = 'Cardiology' INTERSECT SELECT T3.city FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id JOIN patient AS T3 ON T1.patient_id = T3.patient_id WHERE T2.specialty = 'General Practice'
SELECT T2.name, T1.visit_date FROM appointment AS T1 JOIN patient AS T2 ON T1.patient_id = T2.patient_id ORDER BY T1.fee LIMIT 1
SELECT T2.name, T1.visit_date FROM appointment AS T1 JOIN patient AS T2 ON T1.patient_id = T2.patient_id ORDER BY T1.fee DESC LIMIT 2
SELECT count(*) FROM line WHERE mode = 'Bus'
SELECT count(*) FROM line WHERE mode = 'Metro'
SELECT name FROM station WHERE district != 'Centre'
SELECT name FROM station WHERE district = 'East'
SELECT T2.name FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 ON T1.line_id = T3.line_id WHERE T3.name = 'Red Line'
SELECT T2.name FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 ON T1.line_id = T3.line_id WHERE T3.name = 'Blue Line' ORDER BY T1.stop_order
SELECT max(passengers) FROM trip
SELECT max(T1.passengers) FROM trip AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id WHERE T2.name = 'Blue Line'
SELECT T2.district, count(DISTINCT T2.station_id) FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 ON T1.line_id = T3.line_id WHERE T3.opened_year < 2019 AND T2.step_free = 1 GROUP BY T2.district
SELECT T2.district, count(DISTINCT T2.station_id) FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 ON T1.line_id = T3.line_id WHERE T3.opened_year < 2017 AND T2.step_free = 1 GROUP BY T2.district
SELECT avg(delay_minutes) FROM trip
SELECT avg(T1.delay_minutes) FROM trip AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id WHERE T2.mode = 'Rail'
SELECT T2.name FROM trip AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id GROUP BY T1.line_id HAVING sum(T1.passengers) > 3000
SELECT T2.name FROM trip AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id GROUP BY T1.line_id HAVING sum(T1.passengers) > 4000
SELECT name FROM station WHERE district = 'Centre' AND station_id NOT IN (SELECT T1.station_id FROM stop AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id WHERE T2.mode = 'Tram')
SELECT name FROM station WHERE district = 'East' AND station_id NOT IN (SELECT T1.station_id FROM stop AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id WHERE T2.mode = 'Tram')
SELECT DISTINCT T2.name FROM trip AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id WHERE T1.passengers > (SELECT max(T3.passengers) FROM trip AS T3 JOIN line AS T4 ON T3.line_id = T4.line_id WHERE T4.name = 'Airport Express')
SELECT DISTINCT T2.name FROM trip AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id WHERE T1.passengers > (SELECT max(T3.passengers) FROM trip AS T3 JOIN line AS T4 ON T3.line_id = T4.line_id WHERE T4.name = 'Bus 11')
SELECT T2.name FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 ON T1.line_id = T3.line_id WHERE T3.name = 'Airport Express' INTERSECT SELECT T2.name FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 ON T1.line_id = T3.line_id WHERE T3.mode = 'Bus'
SELECT T2.name FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 ON T1.line_id = T3.line_id WHERE T3.name = 'Blue Line' INTERSECT SELECT T2.name FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 ON T1.line_id = T3.line_id WHERE T3.mode = 'Bus'
SELECT T3.name FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 ON T1.line_id = T3.line_id WHERE T2.name = 'Central'
SELECT T3.name FROM stop AS T1 JOIN station AS T2 ON T1.station_id = T2.station_id JOIN line AS T3 ON T1.line_id = T3.line_id WHERE T2.name = 'Old Market'
SELECT count(*) FROM product WHERE name = 'Trail Backpack'
SELECT stock FROM product WHERE name = 'Camping Stove'
SELECT count(*) FROM customer
SELECT count(*) FROM customer WHERE country = 'Finland'
SELECT name FROM product WHERE category = 'Electronics'
SELECT name, unit_price FROM product WHERE category = 'Fitness'
SELECT name FROM product WHERE unit_price > 10
SELECT name FROM product WHERE unit_price > 20 ORDER BY unit_price DESC
SELECT count(*) FROM orders WHERE status = 'Cancelled'
SELECT count(*) FROM orders WHERE status = 'Delivered'
SELECT count(*) FROM order_item AS T1 JOIN product AS T2 ON T1.product_id = T2.product_id WHERE T2.category = 'Outdoor'
SELECT sum(T1.quantity) FROM order_item AS T1 JOIN product AS T2 ON T1.product_id = T2.product_id WHERE T2.category = 'Office'
SELECT T1.status, count(*) FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id WHERE T2.country = 'Spain' GROUP BY T1.status
SELECT T1.status, count(*) FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id WHERE T2.country = 'Poland' GROUP BY T1.status
SELECT T2.name FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id GROUP BY T1.customer_id HAVING count(*) >= 0
SELECT T2.name FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id GROUP BY T1.customer_id HAVING count(*) > 2
SELECT name FROM product WHERE category = 'Electronics' EXCEPT SELECT T2.name FROM order_item AS T1 JOIN product AS T2 ON T1.product_id = T2.product_id JOIN orders AS T3 ON T1.order_id = T3.order_id JOIN customer AS T4 ON T3.customer_id = T4.customer_id WHERE T4.country = 'Portugal'
SELECT name FROM product WHERE category = 'Fitness' EXCEPT SELECT T2.name FROM order_item AS T1 JOIN product AS T2 ON T1.product_id = T2.product_id JOIN orders AS T3 ON T1.order_id = T3.order_id JOIN customer AS T4 ON T3.customer_id = T4.customer_id WHERE T4.country = 'Portugal'
SELECT DISTINCT T3.name FROM order_item AS T1 JOIN orders AS T2 ON T1.order_id = T2.order_id JOIN customer AS T3 ON T2.customer_id = T3.customer_id WHERE T3.country = 'Austria' AND T1.product_id IN (SELECT product_id FROM product WHERE unit_price > (SELECT avg(unit_price) FROM product))
SELECT DISTINCT T3.name FROM order_item AS T1 JOIN orders AS T2 ON T1.order_id = T2.order_id JOIN customer AS T3 ON T2.customer_id = T3.customer_id WHERE T3.country = 'Finland' AND T1.product_id IN (SELECT product_id FROM product WHERE unit_price > (SELECT avg(unit_price) FROM product))
SELECT DISTINCT T2.name FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id WHERE T2.signup_date < '2023-07-01' AND T1.status != 'Delivered' AND T1.status != 'Shipped' ORDER BY T2.name
SELECT DISTINCT T2.name FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id WHERE T2.signup_date < '2022-07-01' AND T1.status != 'Delivered' AND T1.status != 'Shipped' ORDER BY T2.name
