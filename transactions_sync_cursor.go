package basiq

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"time"
)

// The sync cursor (transactions_sync.go): what a sync must remember to
// compute the next one, encoded compactly, versioned and checksummed
// against the user and the sync's scope. It holds transaction and
// connection ids and hashes, never a secret or a transaction's details.
//
// Layout (version 1), base64url without padding:
//
//	version byte (1)
//	uvarint flags (bit 0: more pending transactions than a cursor holds: the next sync resets)
//	uvarint n, then n connections:
//	  string id, uvarint accounts, u64 accounts hash,
//	  uvarint high-water day (days since 1970-01-01; 0: none posted), uvarint window days,
//	  uvarint n, then n day groups: uvarint account, uvarint days before the high-water day, uvarint count, u64 sum,
//	  the overlap's IBLT (96 cells, 4 hashes): a bitmap of the cells in use (12 bytes), then each: zigzag count, u64 key, u32 value, u32 check
//	uvarint n, then n pending transactions: string id, uvarint connection index + 1 (0: none), u64 content hash
//	8 bytes: SHA-256 of the user id, the scope and all of the above
//
// Sizes, in base64: about 2.2 KiB per connection for its overlap's IBLT,
// 16 bytes per account and day of the overlap, and 65 bytes per pending
// transaction; the decoder refuses anything beyond the bounds below.

const (
	syncCursorVersion = 1
	// maxSyncCursor bounds the cursor text Sync reads; longer is not a cursor.
	maxSyncCursor = 1 << 20
	// maxSyncPending is the most pending transactions a cursor holds; a
	// cursor made with more says so, and the sync after it resets.
	maxSyncPending = 1000
	maxSyncConns   = 1000
	maxSyncIDLen   = 256
	maxSyncGroups  = 1 << 16
)

// syncState is a cursor's content.
type syncState struct {
	overflow bool
	conns    []syncConnState
	pending  []syncPending
}

type syncConnState struct {
	id        string
	accounts  int
	acctHash  uint64
	hwm       int64 // the newest post day seen; 0: none
	window    int64 // days of the overlap held: [hwm-window, hwm]
	groups    []syncGroup
	overlapTx iblt
}

// syncGroup is the fingerprint of one account's posted transactions of one
// day in the overlap.
type syncGroup struct {
	acct int
	day  int64
	fp   groupPrint
}

type groupPrint struct {
	n   uint64
	sum uint64
}

func (g *groupPrint) add(key uint64, val uint32) {
	g.n++
	g.sum += groupTerm(key, val)
}

// groupTerm is one transaction's part of its group's sum.
func groupTerm(key uint64, val uint32) uint64 {
	return splitmix(key ^ splitmix(uint64(val)^0x6a09e667f3bcc908))
}

type syncPending struct {
	id   string
	conn int // index in conns; -1: none
	hash uint64
}

// splitmix scrambles x into well-mixed bits.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hash64 is the first 8 bytes of SHA-256 over a domain tag and the parts.
func hash64(tag string, parts ...string) uint64 {
	h := sha256.New()
	h.Write([]byte(tag))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}

// txKey identifies a transaction id in fingerprints.
func txKey(id string) uint64 { return hash64("basiq-sync-id", id) }

// txContentHash is a hash of everything the SDK decoded of t: a change to
// any field, or to what Extra keeps, changes it.
func txContentHash(t *Transaction) uint64 {
	b, err := json.Marshal(t)
	if err != nil { // cannot happen for a decoded transaction; still a distinct value
		return hash64("basiq-sync-content-error", t.ID)
	}
	return hash64("basiq-sync-content", string(b))
}

// dayNumber is t's calendar day (in its own location) as days since
// 1970-01-01; 0 for the zero time or earlier.
func dayNumber(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	y, m, d := t.Date()
	n := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	return max(n, 0)
}

func dayTime(n int64) time.Time { return time.Unix(n*86400, 0).UTC() }

// iblt is an invertible Bloom lookup table of (id key, content hash) pairs:
// the overlap's posted transactions as of the cursor. Subtracting what a
// sync reads in the same days leaves the difference, which decode lists
// when it is small (up to about 60 pairs: a late posting is one, a changed
// transaction two), whatever the overlap holds.
type iblt [ibltCells]ibltCell

const (
	ibltRegion = 24
	ibltHashes = 4
	ibltCells  = ibltHashes * ibltRegion
)

type ibltCell struct {
	n   int64
	key uint64
	val uint32
	chk uint32
}

// ibltItem is the hash a pair is placed and checked by: the pair, not its
// key alone, so that a changed transaction (its key with another value)
// is two items, one gone and one come, as decode lists them.
func ibltItem(key uint64, val uint32) uint64 {
	return splitmix(key ^ splitmix(uint64(val)^0xbb67ae8584caa73b))
}

func ibltCheck(key uint64, val uint32) uint32 { return uint32(ibltItem(key, val) >> 32) }

func ibltPositions(key uint64, val uint32) [ibltHashes]int {
	h := splitmix(ibltItem(key, val) ^ 0x3c6ef372fe94f82b)
	var p [ibltHashes]int
	for i := range p {
		p[i] = i*ibltRegion + int(h>>(16*i)%ibltRegion)
	}
	return p
}

func (t *iblt) update(key uint64, val uint32, d int64) {
	chk := ibltCheck(key, val)
	for _, i := range ibltPositions(key, val) {
		c := &t[i]
		c.n += d
		c.key ^= key
		c.val ^= val
		c.chk ^= chk
	}
}

// decode lists the difference t holds: pairs with a positive count (held
// before, not read now) in gone, negative ones (read now, not held before)
// in come. ok is false when the difference is too large to list.
func (t iblt) decode() (gone, come map[uint64]uint32, ok bool) {
	gone, come = map[uint64]uint32{}, map[uint64]uint32{}
	for progress := true; progress; {
		progress = false
		for i := range t {
			c := t[i]
			if (c.n != 1 && c.n != -1) || c.chk != ibltCheck(c.key, c.val) {
				continue
			}
			if p := ibltPositions(c.key, c.val); !slices.Contains(p[:], i) {
				continue
			}
			side := gone
			if c.n < 0 {
				side = come
			}
			if _, dup := side[c.key]; dup {
				return nil, nil, false
			}
			side[c.key] = c.val
			t.update(c.key, c.val, -c.n)
			progress = true
		}
	}
	for _, c := range t {
		if c != (ibltCell{}) {
			return nil, nil, false
		}
	}
	return gone, come, true
}

// encodeSyncCursor renders st for userID and scope.
func encodeSyncCursor(st *syncState, userID, scope string) string {
	b := []byte{syncCursorVersion}
	var flags uint64
	if st.overflow {
		flags |= 1
	}
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendUvarint(b, uint64(len(st.conns)))
	for i := range st.conns {
		c := &st.conns[i]
		b = appendString(b, c.id)
		b = binary.AppendUvarint(b, uint64(c.accounts))
		b = binary.BigEndian.AppendUint64(b, c.acctHash)
		b = binary.AppendUvarint(b, uint64(c.hwm))
		b = binary.AppendUvarint(b, uint64(c.window))
		b = binary.AppendUvarint(b, uint64(len(c.groups)))
		for _, g := range c.groups {
			b = binary.AppendUvarint(b, uint64(g.acct))
			b = binary.AppendUvarint(b, uint64(c.hwm-g.day))
			b = binary.AppendUvarint(b, g.fp.n)
			b = binary.BigEndian.AppendUint64(b, g.fp.sum)
		}
		var used [ibltCells / 8]byte
		for k, cell := range c.overlapTx {
			if cell != (ibltCell{}) {
				used[k/8] |= 1 << (k % 8)
			}
		}
		b = append(b, used[:]...)
		for _, cell := range c.overlapTx {
			if cell == (ibltCell{}) {
				continue
			}
			b = binary.AppendVarint(b, cell.n)
			b = binary.BigEndian.AppendUint64(b, cell.key)
			b = binary.BigEndian.AppendUint32(b, cell.val)
			b = binary.BigEndian.AppendUint32(b, cell.chk)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(st.pending)))
	for _, p := range st.pending {
		b = appendString(b, p.id)
		b = binary.AppendUvarint(b, uint64(p.conn+1))
		b = binary.BigEndian.AppendUint64(b, p.hash)
	}
	b = binary.BigEndian.AppendUint64(b, cursorSum(b, userID, scope))
	return base64.RawURLEncoding.EncodeToString(b)
}

func cursorSum(b []byte, userID, scope string) uint64 {
	return hash64("basiq-sync-cursor", userID, scope, string(b))
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// errBadCursor: the cursor is not one this version made for this user and
// scope (the sync resets).
var errBadCursor = errors.New("not a cursor of this sync")

// decodeSyncCursor reads a cursor made by encodeSyncCursor for userID and
// scope; any other text is errBadCursor.
func decodeSyncCursor(s, userID, scope string) (*syncState, error) {
	if len(s) > maxSyncCursor {
		return nil, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 9 || b[0] != syncCursorVersion {
		return nil, errBadCursor
	}
	body := b[:len(b)-8]
	if binary.BigEndian.Uint64(b[len(b)-8:]) != cursorSum(body, userID, scope) {
		return nil, errBadCursor
	}
	r := cursorReader{b: body[1:]}
	st := &syncState{overflow: r.uvarint(1)&1 == 1}
	n := r.uvarint(maxSyncConns)
	for range n {
		if r.err {
			break
		}
		c := syncConnState{id: r.string()}
		c.accounts = int(r.uvarint(1 << 16))
		c.acctHash = r.u64()
		c.hwm = int64(r.uvarint(1 << 32))
		c.window = int64(r.uvarint(maxSyncOverlapDays))
		ng := r.uvarint(maxSyncGroups)
		for range ng {
			if r.err {
				break
			}
			g := syncGroup{acct: int(r.uvarint(1 << 16))}
			g.day = c.hwm - int64(r.uvarint(maxSyncOverlapDays))
			g.fp.n = r.uvarint(1 << 32)
			g.fp.sum = r.u64()
			c.groups = append(c.groups, g)
		}
		used := r.take(ibltCells / 8)
		for k := range c.overlapTx {
			if used == nil || used[k/8]&(1<<(k%8)) == 0 {
				continue
			}
			cell := &c.overlapTx[k]
			cell.n = r.varint()
			cell.key = r.u64()
			cell.val = r.u32()
			cell.chk = r.u32()
		}
		st.conns = append(st.conns, c)
	}
	np := r.uvarint(maxSyncPending)
	for range np {
		if r.err {
			break
		}
		p := syncPending{id: r.string(), conn: int(r.uvarint(uint64(len(st.conns)))) - 1}
		p.hash = r.u64()
		st.pending = append(st.pending, p)
	}
	if r.err || len(r.b) != 0 {
		return nil, errBadCursor
	}
	return st, nil
}

// cursorReader reads a cursor's fields; any overrun or out-of-bound value
// sets err (and reads zeros from then on).
type cursorReader struct {
	b   []byte
	err bool
}

func (r *cursorReader) uvarint(limit uint64) uint64 {
	if r.err {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > limit {
		r.err = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *cursorReader) varint() int64 {
	if r.err {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *cursorReader) take(n int) []byte {
	if r.err || len(r.b) < n {
		r.err = true
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *cursorReader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *cursorReader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *cursorReader) string() string {
	n := r.uvarint(maxSyncIDLen)
	if n == 0 {
		r.err = true // ids are never empty
		return ""
	}
	return string(r.take(int(n)))
}
