package webhook_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/webhook"
	"github.com/banklink-go/basiq/webhook/webhooktest"
)

func TestMemoryDeduperContract(t *testing.T) {
	webhooktest.DeduperContract(t, func(*testing.T) webhook.Deduper { return webhook.NewMemoryDeduper(0) }, webhooktest.InBubble())
}

func TestMemoryDeduperZeroValue(t *testing.T) {
	webhooktest.DeduperContract(t, func(*testing.T) webhook.Deduper { return &webhook.MemoryDeduper{} }, webhooktest.InBubble())
}

func TestMemoryDeduperMisuse(t *testing.T) {
	ctx := context.Background()
	var d *webhook.MemoryDeduper
	_, err := d.Claim(ctx, "id", "t", time.Minute)
	assert.ErrorIs(t, err, basiq.ErrInvalidInput)
	assert.ErrorIs(t, d.Complete(ctx, "id", time.Minute), basiq.ErrInvalidInput)
	assert.ErrorIs(t, d.Release(ctx, "id", "t"), basiq.ErrInvalidInput)
	assert.Equal(t, 0, d.Len())

	d = webhook.NewMemoryDeduper(0)
	_, err = d.Claim(ctx, "id", "t", 0)
	assert.ErrorIs(t, err, basiq.ErrInvalidInput)
	assert.ErrorIs(t, d.Complete(ctx, "id", -time.Second), basiq.ErrInvalidInput)
	assert.Equal(t, "claimed in-flight done unknown",
		webhook.Claimed.String()+" "+webhook.InFlight.String()+" "+webhook.Done.String()+" "+webhook.ClaimStatus(0).String())
}

// TestMemoryDeduperBounded: entries lapse on their own, and a full deduper
// forgets the entries closest to lapsing first.
func TestMemoryDeduperBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d := webhook.NewMemoryDeduper(100)
		for i := range 100 {
			id := "m" + strconv.Itoa(i)
			_, err := d.Claim(ctx, id, "t", time.Minute)
			require.NoError(t, err)
			// m0 is remembered shortest, m99 longest.
			require.NoError(t, d.Complete(ctx, id, time.Hour+time.Duration(i)*time.Second))
		}
		assert.Equal(t, 100, d.Len())
		for i := range 10 { // ten more push out m0..m9
			s, err := d.Claim(ctx, "new"+strconv.Itoa(i), "t", time.Minute)
			require.NoError(t, err)
			require.Equal(t, webhook.Claimed, s)
		}
		assert.Equal(t, 100, d.Len())
		// The ten claims survive, and the oldest completions made room for them.
		for i := range 10 {
			s, err := d.Claim(ctx, "new"+strconv.Itoa(i), "u", time.Minute)
			require.NoError(t, err)
			assert.Equal(t, webhook.InFlight, s, "new%d", i)
		}
		for _, c := range []struct {
			i    int
			want webhook.ClaimStatus
		}{{10, webhook.Done}, {99, webhook.Done}, {0, webhook.Claimed}, {9, webhook.Claimed}} {
			s, err := d.Claim(ctx, "m"+strconv.Itoa(c.i), "u", time.Minute)
			require.NoError(t, err)
			assert.Equal(t, c.want, s, "m%d", c.i)
		}
		assert.LessOrEqual(t, d.Len(), 100)

		time.Sleep(2 * time.Hour) // everything lapsed
		assert.Equal(t, 0, d.Len())
	})
}

// TestMemoryDeduperSize prints the memory an entry costs, for DefaultMemoryEntries' doc.
func TestMemoryDeduperSize(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory")
	}
	const n = 100_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "44a85f64-5717-4562-b3fc-" + strconv.FormatInt(int64(100000000000+i), 10)
	}
	before := heapInUse()
	d := webhook.NewMemoryDeduper(n)
	ctx := context.Background()
	for _, id := range ids {
		_, _ = d.Claim(ctx, id, "0123456789abcdefghijklmnop", time.Minute)
		_ = d.Complete(ctx, id, time.Hour)
	}
	after := heapInUse()
	require.Equal(t, n, d.Len())
	perEntry := float64(after-before) / n
	t.Logf("MemoryDeduper: %d entries, %.0f bytes/entry (ids excluded), %.1f MB", n, perEntry, float64(after-before)/1e6)
	assert.Less(t, perEntry, 200.0)
}

// TestMemoryDeduperFullOfClaimsFailsClosed: a live claim is never forgotten
// to make room; a new id is refused with ErrDeduperFull until one finishes.
func TestMemoryDeduperFullOfClaimsFailsClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d := webhook.NewMemoryDeduper(2)
		for _, id := range []string{"a", "b"} {
			s, err := d.Claim(ctx, id, "t-"+id, time.Minute)
			require.NoError(t, err)
			require.Equal(t, webhook.Claimed, s)
		}
		_, err := d.Claim(ctx, "c", "t-c", time.Minute)
		require.ErrorIs(t, err, webhook.ErrDeduperFull)
		for _, id := range []string{"a", "b"} {
			s, err := d.Claim(ctx, id, "u", time.Minute)
			require.NoError(t, err)
			assert.Equal(t, webhook.InFlight, s, id)
		}
		require.NoError(t, d.Complete(ctx, "a", time.Hour)) // a's claim becomes its record
		s, err := d.Claim(ctx, "c", "t-c", time.Minute)     // the completed a makes room
		require.NoError(t, err)
		assert.Equal(t, webhook.Claimed, s)
		s, err = d.Claim(ctx, "b", "u", time.Minute)
		require.NoError(t, err)
		assert.Equal(t, webhook.InFlight, s, "b still running")
		time.Sleep(time.Minute) // the claims lapse: room again
		s, err = d.Claim(ctx, "d", "t-d", time.Minute)
		require.NoError(t, err)
		assert.Equal(t, webhook.Claimed, s)
	})
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
