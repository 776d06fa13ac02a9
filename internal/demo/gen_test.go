package demo

import "testing"

func TestPlanFor(t *testing.T) {
	tests := []struct {
		name string
		size int64
	}{
		{"tiny", 1},
		{"2MB", 2 << 20},
		{"50MB", 50_000_000},
		{"200MB", 200_000_000},
		{"1GB", 1_000_000_000},
		{"10GB", 10_000_000_000},
	}
	var prev plan
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planFor(tt.size)
			if p.categories != int64(len(categories)) || p.users < 6 || p.products < minProducts ||
				p.customers < minCustomers || p.sales < minSales {
				t.Fatalf("planFor(%d) = %+v: below the minimal cafeteria", tt.size, p)
			}
			if p.products < prev.products || p.customers < prev.customers || p.sales < prev.sales {
				t.Errorf("planFor(%d) = %+v shrinks a table compared with %+v", tt.size, p, prev)
			}
			prev = p
			est := p.users*bytesPerUser + p.products*bytesPerProduct + p.customers*bytesPerCustomer + p.sales*bytesPerSale
			if tt.size >= 1<<20 && (est < tt.size*95/100 || est > tt.size*105/100) {
				t.Errorf("planFor(%d) = %+v: estimated %d bytes, want within 5%%", tt.size, p, est)
			}
		})
	}
}

// BenchmarkGenerate measures the generator alone, statements discarded: the
// Go side of Seed, to compare with the server's insert rate.
func BenchmarkGenerate(b *testing.B) {
	const size = 50_000_000
	for b.Loop() {
		chans := make([]chan []byte, 4)
		done := make(chan int64)
		for i := range chans {
			chans[i] = make(chan []byte, 2)
			go func(ch <-chan []byte) {
				var n int64
				for stmt := range ch {
					n += int64(len(stmt))
				}
				done <- n
			}(chans[i])
		}
		g := newGenerator(b.Context(), planFor(size), 1, chans[0], chans[1], chans[2], chans[3])
		if err := g.run(); err != nil {
			b.Fatal(err)
		}
		var sqlBytes int64
		for _, ch := range chans {
			close(ch)
			sqlBytes += <-done
		}
		b.SetBytes(sqlBytes)
	}
}
