package basiq

import (
	"math/rand/v2"
	"testing"
)

// The overlap's IBLT lists a difference of up to about 60 (id, content)
// pairs whatever the number of pairs it holds, and says when it cannot.
func TestIBLTListsSmallDifferences(t *testing.T) {
	const trials = 200
	for _, k := range []int{1, 5, 10, 20, 30, 40, 50, 60, 80} {
		ok := 0
		for trial := range trials {
			rng := rand.New(rand.NewPCG(uint64(k), uint64(trial)))
			var tb iblt
			held := map[uint64]uint32{}
			for range 2000 { // the overlap as the cursor holds it
				key, val := rng.Uint64(), rng.Uint32()
				held[key] = val
				tb.update(key, val, 1)
			}
			wantGone, wantCome := map[uint64]uint32{}, map[uint64]uint32{}
			i := 0
			for key, val := range held { // read now: all but k/2 gone, k/2 modified or new
				switch {
				case i < k/2:
					wantGone[key] = val
				default:
					tb.update(key, val, -1)
				}
				i++
			}
			var goneKeys []uint64
			for g := range wantGone {
				goneKeys = append(goneKeys, g)
			}
			for j := range k - k/2 {
				key, val := rng.Uint64(), rng.Uint32()
				if j%2 == 0 && j/2 < len(goneKeys) { // a modification: a gone key comes back with another value
					key = goneKeys[j/2]
				}
				wantCome[key] = val
				tb.update(key, val, -1)
			}
			gone, come, decoded := tb.decode()
			if !decoded {
				continue
			}
			if len(gone) != len(wantGone) || len(come) != len(wantCome) {
				t.Fatalf("k=%d: decoded %d gone and %d come, want %d and %d", k, len(gone), len(come), len(wantGone), len(wantCome))
			}
			for key, val := range wantGone {
				if gone[key] != val {
					t.Fatalf("k=%d: gone %x", k, key)
				}
			}
			for key, val := range wantCome {
				if come[key] != val {
					t.Fatalf("k=%d: come %x", k, key)
				}
			}
			ok++
		}
		t.Logf("difference of %2d pairs: listed in %3d of %d trials", k, ok, trials)
		if k <= 60 && ok < trials*97/100 {
			t.Errorf("difference of %d: listed in only %d of %d trials", k, ok, trials)
		}
	}
}
