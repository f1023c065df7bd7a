package basiq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path"
	"strings"
	"sync/atomic"

	"github.com/banklink-go/basiq/internal/transport"
)

// StatementsService uploads bank statements: a PDF a bank issued, or a CSV
// in Basiq's format, read into a user's accounts and transactions by a job.
type StatementsService struct {
	c *Client
}

func (s *StatementsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

// UploadError is the error of a statement upload that was sent, or may
// have been: MayHaveActed says whether Basiq may have received the file and
// started a job (a 5xx, a connection lost after the file went out, an
// unreadable answer to a delivered file), as opposed to the request being
// refused before anything was done (a 4xx, throttling, a connection that
// never opened, a reader that failed before its first byte went out). An
// upload is never retried by the SDK; when MayHaveActed is true, look for
// the job (Jobs.List) before uploading again. Err is the cause: errors.Is
// and errors.As see through UploadError to it (ErrNotFound, *APIError, ...).
type UploadError struct {
	MayHaveActed bool
	Err          error
}

// Error describes the failure and whether the server may have acted.
func (e *UploadError) Error() string {
	if e.MayHaveActed {
		return e.Err.Error() + " (the statement may have been received: look for its job before uploading again)"
	}
	return e.Err.Error() + " (the statement was not processed)"
}

// Unwrap returns the cause.
func (e *UploadError) Unwrap() error { return e.Err }

// maxStatementName bounds a statement's file name.
const maxStatementName = 255

// Upload sends a statement file for a user (POST /users/{userId}/statements,
// multipart/form-data with institutionId and the file as statement) and
// returns its job: verify-credentials reads the file, then
// retrieve-accounts and retrieve-transactions. Wait for it with Jobs.Wait
// or a Poller like any job. name is the file's name as the form gives it
// (its extension, .pdf or .csv, sets the part's content type).
//
// The file is streamed from r as the request goes out, never held in
// memory whole, and the request is sent once: it is never retried, nor
// replayed with a new token, since a second copy could make a second job.
// A failure after sending is an *UploadError saying whether Basiq may have
// acted. r is read until it ends or the request fails, and not after
// Upload returns (unless ctx ended while a Read was stalled); it is not
// closed. A Read that blocks can hold Upload past ctx's end until it
// returns (the request body is being written when ctx ends): give a reader
// that may stall a deadline of its own.
// When r tells its length (a Len method, as *bytes.Reader and
// *strings.Reader have, or a regular *os.File) the request carries a
// Content-Length; otherwise it goes out chunked. Basiq's sandbox
// institution (AU00000) takes no uploads.
func (s *StatementsService) Upload(ctx context.Context, userID, institutionID, name string, r io.Reader) (*Job, error) {
	c := s.client()
	if err := c.ready(); err != nil {
		return nil, err
	}
	if ctx == nil {
		return nil, invalidInput("nil context")
	}
	if r == nil {
		return nil, invalidInput("nil statement reader")
	}
	if err := validateID("userId", userID); err != nil {
		return nil, err
	}
	if err := validateID("institutionId", institutionID); err != nil {
		return nil, err
	}
	if err := validateID("statement name", name); err != nil {
		return nil, err
	}
	if len(name) > maxStatementName {
		return nil, invalidInput("statement name is longer than %d bytes", maxStatementName)
	}

	file := &fileReader{r: r}
	head, tail, contentType, err := statementForm(institutionID, name)
	if err != nil {
		return nil, err
	}
	body := newSentReader(io.MultiReader(bytes.NewReader(head), file, bytes.NewReader(tail)))
	var length int64
	if n := readerLen(r); n >= 0 {
		length = int64(len(head)) + n + int64(len(tail))
	}
	var job Job
	_, err = c.do(ctx, apiRequest{
		method: http.MethodPost, route: "/users/{userId}/statements", params: []string{userID},
		stream: body, streamLen: length, contentType: contentType,
	}, &job)
	started := body.close(ctx)
	if err != nil {
		if readErr := file.failed(); readErr != nil {
			// The request was cut off before the form ended: nothing to act on.
			return nil, &UploadError{Err: fmt.Errorf("basiq: POST /users/{userId}/statements: reading the statement: %w", readErr)}
		}
		if !started {
			return nil, err
		}
		return nil, &UploadError{MayHaveActed: uploadMayHaveActed(err), Err: err}
	}
	if job.ID == "" {
		return nil, &UploadError{MayHaveActed: true, Err: errors.New("basiq: POST /users/{userId}/statements: the answer names no job")}
	}
	return &job, nil
}

// uploadMayHaveActed reports whether an upload that failed with err, after
// its body started going out, may have been acted on.
func uploadMayHaveActed(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500
	}
	return !transport.NotSent(err)
}

// statementForm renders the multipart form around the file: what goes
// before it (the institutionId field and the statement part's header) and
// after it (the closing boundary), and the form's content type.
func statementForm(institutionID, name string) (head, tail []byte, contentType string, err error) {
	var buf bytes.Buffer
	form := multipart.NewWriter(&buf)
	if err := form.WriteField("institutionId", institutionID); err != nil {
		return nil, nil, "", err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="statement"; filename="%s"`, formQuoter.Replace(name)))
	h.Set("Content-Type", statementContentType(name))
	if _, err := form.CreatePart(h); err != nil {
		return nil, nil, "", err
	}
	head = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := form.Close(); err != nil {
		return nil, nil, "", err
	}
	return head, bytes.Clone(buf.Bytes()), form.FormDataContentType(), nil
}

// readerLen returns how many bytes r has left when it says so (Len, as
// bytes.Reader, strings.Reader and bytes.Buffer have; a regular file's size
// past its offset), or -1.
func readerLen(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case interface {
		Stat() (fs.FileInfo, error)
		io.Seeker
	}:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		off, err := v.Seek(0, io.SeekCurrent)
		if err != nil || off > fi.Size() {
			return -1
		}
		return fi.Size() - off
	}
	return -1
}

// formQuoter escapes a quoted form parameter.
var formQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// statementContentType is the content type of a statement file by its
// name's extension.
func statementContentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".pdf":
		return "application/pdf"
	case ".csv":
		return "text/csv"
	}
	return "application/octet-stream"
}

// sentReader is an upload's body as the transport reads it: it records
// whether any of it was read for sending, and once closed it reads no more
// (net/http may go on reading a request body after the answer has come,
// from another goroutine; the caller's reader is theirs again once Upload
// returns).
type sentReader struct {
	r       io.Reader
	turn    chan struct{} // held while reading r (capacity 1)
	started atomic.Bool
	closed  atomic.Bool
}

func newSentReader(r io.Reader) *sentReader {
	return &sentReader{r: r, turn: make(chan struct{}, 1)}
}

func (s *sentReader) Read(p []byte) (int, error) {
	s.turn <- struct{}{}
	defer func() { <-s.turn }()
	if s.closed.Load() {
		return 0, errUploadEnded
	}
	n, err := s.r.Read(p)
	if n > 0 {
		s.started.Store(true)
	}
	return n, err
}

// close ends the reading, waiting for a read under way unless ctx ends
// first (a reader stalled in Read is not waited for past the caller's
// context), and reports whether any of the body was read.
func (s *sentReader) close(ctx context.Context) (started bool) {
	if ctx == nil {
		ctx = context.Background()
	}
	select {
	case s.turn <- struct{}{}:
		s.closed.Store(true)
		<-s.turn
	case <-ctx.Done():
		s.closed.Store(true)
	}
	return s.started.Load()
}

// errUploadEnded is what the transport reads from an upload's body once
// Upload has returned.
var errUploadEnded = errors.New("basiq: the upload has ended")

// fileReader keeps the error the caller's reader failed with, if any.
type fileReader struct {
	r   io.Reader
	err atomic.Pointer[error]
}

func (f *fileReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && err != io.EOF {
		f.err.CompareAndSwap(nil, &err)
	}
	return n, err
}

// failed returns the reader's error, or nil.
func (f *fileReader) failed() error {
	if e := f.err.Load(); e != nil {
		return *e
	}
	return nil
}
