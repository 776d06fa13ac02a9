-- Cantina POS demo schema: a school cafeteria's point of sale.
-- MariaDB 10.11 / MySQL 8, InnoDB, utf8mb4. Runs as is in the mysql client
-- (`mariadb DB < schema.sql`); demo.Schema() splits it the same way, honouring
-- DELIMITER lines. Tables come first, then views and triggers.

CREATE TABLE categories (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  name VARCHAR(100) NOT NULL,
  description TEXT NULL,
  sort_order SMALLINT NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  UNIQUE KEY uq_categories_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE products (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  category_id INT UNSIGNED NOT NULL,
  sku VARCHAR(32) NOT NULL,
  name VARCHAR(200) NOT NULL,
  description TEXT NULL,
  price DECIMAL(10,2) NOT NULL,
  stock INT NOT NULL DEFAULT 0,
  image BLOB NULL,
  active TINYINT(1) NOT NULL DEFAULT 1,
  created DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_products_sku (sku),
  KEY ix_products_category (category_id, active),
  CONSTRAINT fk_products_category FOREIGN KEY (category_id) REFERENCES categories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE customers (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  kind ENUM('student','staff') NOT NULL DEFAULT 'student',
  card_number VARCHAR(20) NOT NULL,
  first_name VARCHAR(100) NOT NULL,
  last_name VARCHAR(100) NOT NULL,
  email VARCHAR(254) NULL,
  grade VARCHAR(20) NULL,
  balance DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  allergies TEXT NULL,
  created DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_customers_card (card_number),
  KEY ix_customers_name (last_name, first_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE users (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  username VARCHAR(150) NOT NULL,
  full_name VARCHAR(150) NOT NULL,
  password_hash VARCHAR(128) NOT NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1,
  last_login DATETIME(6) NULL,
  created DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_users_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sales (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  customer_id INT UNSIGNED NULL,
  user_id INT UNSIGNED NOT NULL,
  total DECIMAL(12,2) NOT NULL DEFAULT 0.00,
  status ENUM('open','paid','void','refunded') NOT NULL DEFAULT 'open',
  note VARCHAR(255) NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY ix_sales_created (created_at),
  KEY ix_sales_customer (customer_id, created_at),
  KEY ix_sales_user (user_id),
  CONSTRAINT fk_sales_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE SET NULL,
  CONSTRAINT fk_sales_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sale_lines (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  sale_id BIGINT UNSIGNED NOT NULL,
  product_id INT UNSIGNED NOT NULL,
  qty SMALLINT NOT NULL,
  unit_price DECIMAL(10,2) NOT NULL,
  PRIMARY KEY (id),
  KEY ix_sale_lines_sale (sale_id),
  KEY ix_sale_lines_product (product_id),
  CONSTRAINT fk_sale_lines_sale FOREIGN KEY (sale_id) REFERENCES sales (id) ON DELETE CASCADE,
  CONSTRAINT fk_sale_lines_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE payments (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  sale_id BIGINT UNSIGNED NOT NULL,
  method ENUM('cash','card','balance') NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  reference VARCHAR(64) NULL,
  paid_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY ix_payments_sale (sale_id),
  KEY ix_payments_paid_at (paid_at),
  CONSTRAINT fk_payments_sale FOREIGN KEY (sale_id) REFERENCES sales (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Paid sales per day, as the POS's dashboard shows them.
CREATE SQL SECURITY INVOKER VIEW daily_sales AS
SELECT DATE(s.created_at) AS day,
       COUNT(*) AS sales,
       SUM(s.total) AS total
  FROM sales s
 WHERE s.status = 'paid'
 GROUP BY DATE(s.created_at);

-- A new sale line adds to its sale's total and takes its quantity from stock.
DELIMITER //
CREATE TRIGGER sale_lines_after_insert AFTER INSERT ON sale_lines
FOR EACH ROW
BEGIN
  UPDATE sales SET total = total + NEW.qty * NEW.unit_price WHERE id = NEW.sale_id;
  UPDATE products SET stock = stock - NEW.qty WHERE id = NEW.product_id;
END//
DELIMITER ;
