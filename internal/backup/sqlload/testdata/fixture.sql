-- Round-trip fixture for the sqlload and mysqldump tests: the objects a POS
-- database holds (tables with foreign keys, views on views, a trigger,
-- procedures, a function, an event) and data that is hard to split (quotes,
-- backslashes, delimiters and comment markers inside strings, binary bytes,
-- NUL, CR/LF, utf8mb4 emoji), enough rows for several extended INSERTs.
-- Load it with `mariadb --comments` so routine bodies keep their comments.
SET NAMES utf8mb4;

CREATE TABLE category (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL UNIQUE
) ENGINE=InnoDB;

CREATE TABLE product (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  category_id INT UNSIGNED NOT NULL,
  name VARCHAR(200) NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  photo MEDIUMBLOB NULL,
  notes TEXT NULL,
  meta JSON NULL,
  CONSTRAINT fk_product_category FOREIGN KEY (category_id) REFERENCES category (id)
) ENGINE=InnoDB;

CREATE TABLE sale (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id INT UNSIGNED NOT NULL,
  qty INT NOT NULL,
  total DECIMAL(12,2) NOT NULL,
  note VARCHAR(100) NOT NULL DEFAULT '',
  sold_at DATETIME(6) NOT NULL,
  KEY sold_at (sold_at),
  CONSTRAINT fk_sale_product FOREIGN KEY (product_id) REFERENCES product (id)
) ENGINE=InnoDB;

CREATE TABLE audit (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  msg VARCHAR(255) NOT NULL
) ENGINE=InnoDB;

CREATE TABLE `select` (
  `from` INT NOT NULL PRIMARY KEY,
  `a;b` VARCHAR(40) NULL,
  `odd``name` VARCHAR(40) NULL
) ENGINE=InnoDB;

INSERT INTO category (name) VALUES
  ('Bebidas'), ('Snacks; "salty"'), ('Café ☕'), ('it''s -- not a comment'),
  ('/* nor this */'), ('# nor this;;'), ('DELIMITER //');

INSERT INTO product (category_id, name, price, photo, notes, meta) VALUES
  (1, 'Agua', 1.50, NULL, '', NULL),
  (1, 'Jugo 😀🍊', 2.25, '', NULL, '{"sizes": ["s;m", "l"], "hot": false}'),
  (2, 'Papas', 0.99, 0x000102FF00, 'line1\nline2\r\nline3\ttab', '{}'),
  (3, 'Back\\slash\\', 3.00, x'89504E470D0A1A0A', 'DELIMITER ;;\nSELECT 1;;\nDELIMITER ;', NULL),
  (4, 'quote''s "double" `tick`', 4.00, UNHEX(REPEAT('00FF5C27223B2D2D', 4000)), 'semicolon; -- dash /* star */ # hash', NULL),
  (5, 'NUL byte', 0.00, 0x00, CONCAT('a', CHAR(0), 'b'), NULL),
  (6, 'Ñandú ÿ', 10.00, 0x5C, '\\', NULL);

INSERT INTO sale (product_id, qty, total, note, sold_at)
SELECT 1 + seq % 7, 1 + seq % 5, (1 + seq % 5) * 1.25,
       CONCAT('ticket;', seq, IF(seq % 3 = 0, ' it''s', ' "ok"')),
       TIMESTAMP('2024-01-01 08:00:00') + INTERVAL seq * 7 SECOND + INTERVAL seq % 1000 MICROSECOND
FROM seq_1_to_30000;

INSERT INTO `select` VALUES (1, 'a;b', 'odd`name'), (2, NULL, '');

CREATE VIEW sales_by_product AS
  SELECT p.id, p.name, SUM(s.total) AS total, COUNT(*) AS n
  FROM sale s JOIN product p ON p.id = s.product_id GROUP BY p.id, p.name;

CREATE VIEW top_products AS
  SELECT name, total FROM sales_by_product WHERE total > 100;

DELIMITER ;;
CREATE TRIGGER sale_audit AFTER INSERT ON sale FOR EACH ROW
BEGIN
  -- keep an audit trail; the ';' in strings must not split
  INSERT INTO audit (msg) VALUES (CONCAT('sale;', NEW.id, ' /* x */ -- y'));
END;;

CREATE PROCEDURE add_sale(IN p INT, IN q INT)
BEGIN
  /* a block comment; with a semicolon */
  INSERT INTO sale (product_id, qty, total, sold_at)
    SELECT id, q, q * price, NOW(6) FROM product WHERE id = p;
END;;

CREATE FUNCTION price_with_tax(p DECIMAL(10,2)) RETURNS DECIMAL(10,2) DETERMINISTIC
RETURN ROUND(p * 1.16, 2);;

CREATE EVENT purge_audit ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DO
BEGIN
  DELETE FROM audit WHERE msg LIKE '%;%';
END;;
DELIMITER ;

-- A routine whose sql_mode has NO_BACKSLASH_ESCAPES: its dump holds a
-- string ending in a backslash, readable only in that mode.
SET sql_mode = 'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES';
CREATE PROCEDURE win_path() SELECT 'C:\temp\' AS path, 'a;b' AS s;
SET sql_mode = DEFAULT;

-- A routine created while the database default was latin1: mysqldump
-- wraps it in ALTER DATABASE `name` statements.
ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci;
CREATE PROCEDURE legacy() SELECT 'latin1' AS cs;
ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
