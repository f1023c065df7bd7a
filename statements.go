package basiq

import (
	"context"
	"errors"
	"fmt"
	"io"
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
// acted. r is read until it ends, the request fails or ctx is done; it is
// not closed. Basiq's sandbox institution (AU00000) takes no uploads.
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

	pr, pw := io.Pipe()
	form := multipart.NewWriter(pw)
	file := &fileReader{r: r}
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(writeStatementForm(form, institutionID, name, file))
	}()
	body := &sentReader{r: pr}
	var job Job
	_, err := c.do(ctx, apiRequest{
		method: http.MethodPost, route: "/users/{userId}/statements", params: []string{userID},
		stream: body, contentType: form.FormDataContentType(),
	}, &job)
	// Stop the form's writer if the request ended before reading it all,
	// and let it finish (it stops at its next write, or when r's current
	// read returns, or when ctx is done: r is not ours to interrupt).
	pr.CloseWithError(errUploadEnded)
	select {
	case <-done:
	case <-ctx.Done():
	}
	if err != nil {
		if readErr := file.failed(); readErr != nil {
			// The request was cut off before the form ended: nothing to act on.
			return nil, &UploadError{Err: fmt.Errorf("basiq: POST /users/{userId}/statements: reading the statement: %w", readErr)}
		}
		if !body.started.Load() {
			return nil, err
		}
		return nil, &UploadError{MayHaveActed: uploadMayHaveActed(err), Err: err}
	}
	if job.ID == "" {
		return nil, &UploadError{MayHaveActed: true, Err: errors.New("basiq: POST /users/{userId}/statements: the answer names no job")}
	}
	return &job, nil
}

// errUploadEnded stops a statement form's writer once its request is over.
var errUploadEnded = errors.New("basiq: the upload request has ended")

// uploadMayHaveActed reports whether an upload that failed with err, after
// its body started going out, may have been acted on.
func uploadMayHaveActed(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500
	}
	return !transport.NotSent(err)
}

// writeStatementForm writes the multipart form: institutionId, then the
// file as statement.
func writeStatementForm(form *multipart.Writer, institutionID, name string, r io.Reader) error {
	if err := form.WriteField("institutionId", institutionID); err != nil {
		return err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="statement"; filename="%s"`, formQuoter.Replace(name)))
	h.Set("Content-Type", statementContentType(name))
	part, err := form.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, r); err != nil {
		return err
	}
	return form.Close()
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

// sentReader records whether any of the body was read for sending.
type sentReader struct {
	r       io.Reader
	started atomic.Bool
}

func (s *sentReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.started.Store(true)
	}
	return n, err
}

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
