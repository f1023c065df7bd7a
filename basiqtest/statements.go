package basiqtest

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
)

// Statement uploads (POST /users/{userId}/statements, DATA3): a PDF bank
// statement or a CSV file becomes a connection to the institution it names,
// filled by a job with Basiq's three steps. verify-credentials reads the
// file: one the fake cannot read fails there, with the codes Basiq lists for
// statement problems, and the connection turns invalid. A statement
// connection cannot be refreshed (there is no bank to log in to).
//
// A PDF (a file starting "%PDF-") is not parsed: it yields one transaction
// account with generated transactions, like a sandbox login, seeded by the
// file's bytes. A CSV is read for real (statement_csv.go).

// statementFile is an uploaded statement as the fake read it.
type statementFile struct {
	format string     // "pdf" or "csv"
	key    string     // a hash of the file: the seed of a PDF's generated data
	fail   *stepError // why verify-credentials fails; nil: it succeeds
	accts  []stmtAccount
}

// failure is the error the file makes step title fail with, if any.
func (sf *statementFile) failure(title string) *stepError {
	if title == StepVerifyCredentials && sf.fail != nil {
		e := *sf.fail
		return &e
	}
	return nil
}

// accounts are the accounts retrieve-accounts finds in the file.
func (sf *statementFile) accounts(inst *institution, seq int) []account {
	if sf.format == "pdf" {
		return newAccounts(inst, seq)[:1]
	}
	out := make([]account, len(sf.accts))
	for i, a := range sf.accts {
		out[i] = a.account(inst, seq)
	}
	return out
}

// statementFailure is a step error for a file the fake cannot read.
func statementFailure(code, title, detail string) *stepError {
	return &stepError{Code: code, Title: title, Detail: detail}
}

// readStatement decides what an uploaded file is.
func readStatement(data []byte) *statementFile {
	sf := &statementFile{key: hex64(fnv64(string(data)))}
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		sf.format = "pdf"
	default:
		sf.format = "csv"
		sf.accts, sf.fail = parseStatementCSV(data)
	}
	return sf
}

// statementForm is the multipart body of POST /users/{userId}/statements.
type statementForm struct {
	institutionID string
	hasInst       bool
	file          []byte
	hasFile       bool
}

// readStatementForm reads the multipart/form-data body: 415 for another
// content type, 400 invalid-content for a malformed body.
func readStatementForm(c *call) (statementForm, reply, bool) {
	var f statementForm
	mt, params, err := mime.ParseMediaType(c.req.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return f, errorReply(http.StatusUnsupportedMediaType, errUnsupportedContentType()), false
	}
	bad := errorReply(http.StatusBadRequest, errInvalidContent("Request body is not a valid multipart/form-data body."))
	if params["boundary"] == "" {
		return f, bad, false
	}
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return f, reply{}, true
		}
		if err != nil {
			return f, bad, false
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return f, bad, false
		}
		switch p.FormName() {
		case "institutionId":
			f.institutionID, f.hasInst = strings.TrimSpace(string(b)), true
		case "statement":
			f.file, f.hasFile = b, true
		}
	}
}

// createStatement serves POST /users/{userId}/statements.
func (s *Server) createStatement(c *call) reply {
	u, rp, ok := s.lookupUser(c)
	if !ok {
		return rp
	}
	f, rp, ok := readStatementForm(c)
	if !ok {
		return rp
	}
	var errs []apiError
	if !f.hasInst || f.institutionID == "" {
		errs = append(errs, errNotSupplied("Institution ID parameter is required.", "institutionId", "institutionId"))
	}
	if !f.hasFile {
		errs = append(errs, errNotSupplied("Statement file is required.", "statement", "statement"))
	}
	if len(errs) > 0 {
		return errorReply(http.StatusBadRequest, errs...)
	}
	inst := s.st.instByID[f.institutionID]
	if inst == nil {
		detail := "Requested institution does not exist."
		if !isInstitutionID(f.institutionID) {
			detail = "Institution ID value is not valid"
		}
		return errorReply(http.StatusBadRequest, errNotValid(detail, "institutionId", "institutionId"))
	}
	if inst.InstitutionType == "Test Bank" {
		return errorReply(http.StatusBadRequest, newError("institution-not-supported", "Institution not supported",
			"Statement upload is not supported on sandbox institutions ("+inst.ID+").").withSource("institutionId", "institutionId"))
	}
	sf := readStatement(f.file)
	conn := s.statementConnection(u, inst, sf, c.now)
	j := s.startJob(conn, opStatement, c.now, false, origin{version: c.version(), statement: true})
	j.stmt = sf
	return jsonReply(http.StatusAccepted, s.jobStub(j))
}

// statementConnection makes the connection an upload fills.
func (s *Server) statementConnection(u *user, inst *institution, sf *statementFile, now time.Time) *connection {
	conn := &connection{id: newUUID(), userID: u.id, instID: inst.ID, status: connPending, created: now,
		seq: s.st.next(), stmt: sf, creds: credentials{loginID: "statement-" + sf.key}}
	s.st.conns[conn.id] = conn
	u.conns = append(u.conns, conn.id)
	s.connEvent(now, "created", conn)
	return conn
}
