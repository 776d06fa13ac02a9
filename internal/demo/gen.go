package demo

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// plan is how many rows each table gets.
type plan struct {
	categories, users, products, customers, sales int64
}

// Average InnoDB data bytes per row (data_length / rows), measured on
// MariaDB 10.11 with this generator; planFor divides the requested size
// among the tables with them.
const (
	bytesPerProduct  = 3700
	bytesPerCustomer = 150
	bytesPerUser     = 250
	// One sale with its 2.3 lines and 1.0 payments on average.
	bytesPerSale = 230
	// minimum rows: a small cafeteria.
	minProducts  = 40
	minCustomers = 60
	minSales     = 200
)

// planFor divides size bytes among the tables: products and customers grow
// slowly with the size, sales and their lines and payments take the rest.
func planFor(size int64) plan {
	p := plan{categories: int64(len(categories))}
	p.users = clamp(6+size/(64<<20), 6, 60)
	p.products = clamp(size/(24<<10), minProducts, 3000)
	p.customers = clamp(size/(8<<10), minCustomers, 500000)
	rest := size - p.users*bytesPerUser - p.products*bytesPerProduct - p.customers*bytesPerCustomer
	p.sales = max(rest/bytesPerSale, minSales)
	return p
}

func clamp(v, lo, hi int64) int64 { return min(max(v, lo), hi) }

// Random streams: each table draws from its own, so that changing one
// table's generation does not shift the others. (Categories are fixed.)
const (
	streamUsers = iota + 1
	streamProducts
	streamCustomers
	streamSales
)

// Insert statements are flushed at whichever limit comes first.
const (
	batchRows  = 1000
	batchBytes = 1 << 20
)

// generator produces the INSERT statements, in primary key order per table.
type generator struct {
	ctx  context.Context
	plan plan
	seed int64
	rows map[string]int64

	small, sales, lines, pays chan<- []byte

	prices []int64 // cents, by product id-1
}

func newGenerator(ctx context.Context, p plan, seed int64, small, sales, lines, pays chan<- []byte) *generator {
	return &generator{ctx: ctx, plan: p, seed: seed, rows: map[string]int64{},
		small: small, sales: sales, lines: lines, pays: pays}
}

func (g *generator) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(g.seed), stream))
}

func (g *generator) run() error {
	steps := []func() error{g.genCategories, g.genUsers, g.genProducts, g.genCustomers, g.genSales}
	for _, f := range steps {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// inserter accumulates the rows of one table into multi-row INSERTs.
type inserter struct {
	g      *generator
	table  string
	prefix string
	out    chan<- []byte
	buf    []byte
	rows   int
	first  bool
	last   int // length of the previous statement, to size the next buffer
}

func (g *generator) inserter(table, columns string, out chan<- []byte) *inserter {
	return &inserter{g: g, table: table, out: out,
		prefix: "INSERT INTO `" + table + "` (" + columns + ") VALUES "}
}

func (w *inserter) begin() {
	if w.rows == 0 {
		w.buf = append(make([]byte, 0, max(4<<10, w.last+w.last/8)), w.prefix...)
	} else {
		w.buf = append(w.buf, ',')
	}
	w.buf = append(w.buf, '(')
	w.first = true
}

func (w *inserter) sep() {
	if !w.first {
		w.buf = append(w.buf, ',')
	}
	w.first = false
}

func (w *inserter) int(v int64) {
	w.sep()
	w.buf = strconv.AppendInt(w.buf, v, 10)
}

func (w *inserter) str(s string) {
	w.sep()
	w.buf = appendString(w.buf, s)
}

func (w *inserter) null() {
	w.sep()
	w.buf = append(w.buf, "NULL"...)
}

// optStr writes s, or NULL when s is nullValue.
func (w *inserter) optStr(s string) {
	if s == nullValue {
		w.null()
		return
	}
	w.str(s)
}

func (w *inserter) cents(c int64) {
	w.sep()
	w.buf = appendCents(w.buf, c)
}

func (w *inserter) time(t time.Time) {
	w.sep()
	w.buf = appendTime(w.buf, t)
}

func (w *inserter) blob(p []byte) {
	w.sep()
	if p == nil {
		w.buf = append(w.buf, "NULL"...)
		return
	}
	w.buf = appendBlob(w.buf, p)
}

func (w *inserter) end() error {
	w.buf = append(w.buf, ')')
	w.rows++
	w.g.rows[w.table]++
	if w.rows >= batchRows || len(w.buf) >= batchBytes {
		return w.flush()
	}
	return nil
}

func (w *inserter) flush() error {
	if w.rows == 0 {
		return nil
	}
	select {
	case w.out <- w.buf:
	case <-w.g.ctx.Done():
		return context.Cause(w.g.ctx)
	}
	w.last, w.buf, w.rows = len(w.buf), nil, 0
	return nil
}

// nullValue marks a NULL in the sample value lists.
const nullValue = "\x00NULL\x00"

// pick returns a random element of list.
func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// chance is true with probability pct percent.
func chance(r *rand.Rand, pct int) bool { return r.IntN(100) < pct }

// epoch is the start of the generated school year (a Monday).
var epoch = time.Date(2024, time.September, 9, 0, 0, 0, 0, time.UTC)

// randTime returns a time within days days before epoch, to the microsecond.
func randTime(r *rand.Rand, days int) time.Time {
	return epoch.Add(-time.Duration(r.Int64N(int64(days)*24*int64(time.Hour)/1000)) * time.Microsecond)
}

func (g *generator) genCategories() error {
	w := g.inserter("categories", "id,name,description,sort_order", g.small)
	for i, c := range categories {
		w.begin()
		w.int(int64(i + 1))
		w.str(c.name)
		w.optStr(c.description)
		w.int(int64((i + 1) * 10))
		if err := w.end(); err != nil {
			return err
		}
	}
	return w.flush()
}

func (g *generator) genUsers() error {
	r := g.rng(streamUsers)
	w := g.inserter("users", "id,username,full_name,password_hash,is_active,last_login,created", g.small)
	for id := int64(1); id <= g.plan.users; id++ {
		first, last := pick(r, firstNames), pick(r, lastNames)
		w.begin()
		w.int(id)
		w.str(username(first, last, id))
		w.str(first + " " + last)
		w.str("pbkdf2_sha256$600000$" + randomToken(r, 22) + "$" + randomToken(r, 43) + "=")
		w.int(boolInt(!chance(r, 10)))
		if chance(r, 20) {
			w.null()
		} else {
			w.time(epoch.Add(time.Duration(r.Int64N(int64(200 * 24 * time.Hour)))).Truncate(time.Microsecond))
		}
		w.time(randTime(r, 700))
		if err := w.end(); err != nil {
			return err
		}
	}
	return w.flush()
}

func (g *generator) genProducts() error {
	r := g.rng(streamProducts)
	w := g.inserter("products", "id,category_id,sku,name,description,price,stock,image,active,created", g.small)
	g.prices = make([]int64, g.plan.products)
	for id := int64(1); id <= g.plan.products; id++ {
		ci := r.IntN(len(categories))
		c := categories[ci]
		price := c.minCents + r.Int64N(c.maxCents-c.minCents+1)/5*5
		g.prices[id-1] = price
		name := pick(r, c.products)
		if id > int64(len(categories)*4) {
			name += pick(r, productVariants)
		}
		w.begin()
		w.int(id)
		w.int(int64(ci + 1))
		w.str("SKU-" + strconv.FormatInt(100000+id, 10))
		w.str(name)
		w.optStr(pick(r, productDescriptions))
		w.cents(price)
		w.int(r.Int64N(500))
		w.blob(productImage(r))
		w.int(boolInt(!chance(r, 8)))
		w.time(randTime(r, 400))
		if err := w.end(); err != nil {
			return err
		}
	}
	return w.flush()
}

// productImage returns nil (no image), an empty image, or PNG-looking bytes:
// the signature (with its \r\n and 0x1a), NUL runs and random bytes.
func productImage(r *rand.Rand) []byte {
	switch n := r.IntN(100); {
	case n < 30:
		return nil
	case n < 33:
		return []byte{}
	}
	size := 1024 + r.IntN(6*1024)
	img := make([]byte, 0, size)
	img = append(img, 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R')
	for len(img) < size {
		if chance(r, 10) {
			img = append(img, make([]byte, 1+r.IntN(32))...)
			continue
		}
		v := r.Uint64()
		for k := 0; k < 8; k++ {
			img = append(img, byte(v>>(8*k)))
		}
	}
	return img[:size]
}

func (g *generator) genCustomers() error {
	r := g.rng(streamCustomers)
	w := g.inserter("customers", "id,kind,card_number,first_name,last_name,email,grade,balance,allergies,created", g.small)
	for id := int64(1); id <= g.plan.customers; id++ {
		staff := chance(r, 8)
		first := pick(r, firstNames)
		last := pick(r, lastNames) + " " + pick(r, lastNames)
		w.begin()
		w.int(id)
		if staff {
			w.str("staff")
		} else {
			w.str("student")
		}
		w.str("C" + strconv.FormatInt(10000000+id, 10))
		w.str(first)
		w.str(last)
		switch n := r.IntN(100); {
		case n < 35:
			w.null()
		case n < 40:
			w.str("")
		default:
			w.str(username(first, last, id) + "@colegio-cantina.example")
		}
		if staff {
			w.null()
		} else {
			w.str(pick(r, grades) + " " + string(rune('A'+r.IntN(4))))
		}
		w.cents(r.Int64N(17000) - 2000)
		w.optStr(allergies(r))
		w.time(randTime(r, 1500))
		if err := w.end(); err != nil {
			return err
		}
	}
	return w.flush()
}

func allergies(r *rand.Rand) string {
	switch n := r.IntN(100); {
	case n < 65:
		return nullValue
	case n < 75:
		return ""
	case n < 95:
		s := pick(r, allergens)
		if chance(r, 40) {
			s += ", " + pick(r, allergens)
		}
		return s
	default:
		return pick(r, allergens) + "\n¡Grave! Lleva autoinyector 💉 — avisar a la familia"
	}
}

// The day's sales run from 07:45 to 16:30 on school days (Monday–Friday).
const (
	dayOpen   = 7*time.Hour + 45*time.Minute
	dayLength = 8*time.Hour + 45*time.Minute
	schoolDay = 175
)

func (g *generator) genSales() error {
	r := g.rng(streamSales)
	sw := g.inserter("sales", "id,customer_id,user_id,total,status,note,created_at", g.sales)
	lw := g.inserter("sale_lines", "id,sale_id,product_id,qty,unit_price", g.lines)
	pw := g.inserter("payments", "id,sale_id,method,amount,reference,paid_at", g.pays)
	perDay := (g.plan.sales + schoolDay - 1) / schoolDay
	gap := dayLength / time.Duration(perDay)
	var lineID, payID int64
	type line struct{ product, qty, price int64 }
	var ls []line
	for id := int64(1); id <= g.plan.sales; id++ {
		day := (id - 1) / perDay
		at := epoch.AddDate(0, 0, int(day/5*7+day%5)).
			Add(dayOpen + time.Duration((id-1)%perDay)*gap + time.Duration(r.Int64N(int64(gap)/1000+1))*time.Microsecond)

		ls = ls[:0]
		n := 1 + r.IntN(3)
		if chance(r, 15) {
			n += 1 + r.IntN(3)
		}
		var total int64
		for k := 0; k < n; k++ {
			// A few popular products sell most.
			var pid int64
			if chance(r, 50) {
				pid = 1 + r.Int64N(min(g.plan.products, 12))
			} else {
				pid = 1 + r.Int64N(g.plan.products)
			}
			qty := int64(1)
			if chance(r, 12) {
				qty += 1 + r.Int64N(3)
			}
			price := g.prices[pid-1]
			ls = append(ls, line{pid, qty, price})
			total += qty * price
		}
		var customer int64
		if !chance(r, 15) {
			customer = 1 + r.Int64N(g.plan.customers)
		}
		status := "paid"
		switch n := r.IntN(100); {
		case n < 2:
			status = "open"
		case n < 5:
			status = "void"
		case n < 7:
			status = "refunded"
		}

		sw.begin()
		sw.int(id)
		if customer == 0 {
			sw.null()
		} else {
			sw.int(customer)
		}
		sw.int(1 + r.Int64N(g.plan.users))
		sw.cents(total)
		sw.str(status)
		sw.optStr(saleNote(r))
		sw.time(at)
		if err := sw.end(); err != nil {
			return err
		}

		for _, l := range ls {
			lineID++
			lw.begin()
			lw.int(lineID)
			lw.int(id)
			lw.int(l.product)
			lw.int(l.qty)
			lw.cents(l.price)
			if err := lw.end(); err != nil {
				return err
			}
		}

		if status == "open" || status == "void" {
			continue
		}
		paidAt := at.Add(time.Duration(5+r.IntN(85))*time.Second + time.Duration(r.IntN(1e6))*time.Microsecond)
		pay := func(method string, amount int64, ref string) error {
			payID++
			pw.begin()
			pw.int(payID)
			pw.int(id)
			pw.str(method)
			pw.cents(amount)
			pw.optStr(ref)
			pw.time(paidAt)
			return pw.end()
		}
		method := "cash"
		switch n := r.IntN(100); {
		case n < 35:
			method = "card"
		case n < 55 && customer != 0:
			method = "balance"
		}
		var err error
		switch {
		case method == "balance" && total > 300 && chance(r, 30):
			// The balance ran short: the rest in cash.
			part := total / 2
			if err = pay("balance", part, ""); err == nil {
				err = pay("cash", total-part, nullValue)
			}
		case method == "card":
			err = pay("card", total, "AUTH-"+strconv.FormatInt(100000+r.Int64N(900000), 10))
		case method == "balance":
			err = pay("balance", total, "")
		default:
			err = pay("cash", total, nullValue)
		}
		if err == nil && status == "refunded" {
			err = pay(method, -total, "REFUND "+strconv.FormatInt(id, 10))
		}
		if err != nil {
			return err
		}
	}
	for _, w := range []*inserter{sw, lw, pw} {
		if err := w.flush(); err != nil {
			return err
		}
	}
	return nil
}

func saleNote(r *rand.Rand) string {
	switch n := r.IntN(1000); {
	case n < 930:
		return nullValue
	case n < 950:
		return ""
	default:
		return pick(r, saleNotes)
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// username builds an ASCII login such as "mjose.nunez17" from a name.
func username(first, last string, id int64) string {
	f := strings.Fields(asciiFold(strings.ToLower(first)))
	l := strings.Fields(asciiFold(strings.ToLower(last)))
	u := f[0]
	if len(l) > 0 {
		u += "." + l[0]
	}
	u = strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c == '.' {
			return c
		}
		return -1
	}, u)
	return u + strconv.FormatInt(id, 10)
}

var foldAccents = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n", "ç", "c", "ë", "e", "à", "a", "è", "e", "ò", "o")

func asciiFold(s string) string { return foldAccents.Replace(s) }

const tokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func randomToken(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = tokenChars[r.IntN(len(tokenChars))]
	}
	return string(b)
}
