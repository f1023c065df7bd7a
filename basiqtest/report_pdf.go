package basiqtest

import (
	"bytes"
	"fmt"
	"strings"
)

// reportPDF renders a report as a small, valid one-page PDF 1.4 (a
// Helvetica text page, with a correct cross-reference table): what
// GET /reports/{reportId} answers to Accept: application/pdf. Lines past
// the page's end are left out.
func reportPDF(r *report) []byte {
	const perPage = 60
	lines := r.pdfLines
	if len(lines) > perPage {
		lines = append(lines[:perPage-1:perPage-1], fmt.Sprintf("... %d more lines", len(r.pdfLines)-perPage+1))
	}
	var text strings.Builder
	text.WriteString("BT /F1 9 Tf 40 800 Td 12 TL\n")
	for _, l := range lines {
		fmt.Fprintf(&text, "(%s) Tj T*\n", pdfEscape(l))
	}
	text.WriteString("ET\n")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", text.Len(), text.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Title (%s) >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, pdfEscape(r.title), xref)
	return b.Bytes()
}

// pdfEscape makes s a PDF literal string's content: printable ASCII, with
// backslashes and parentheses escaped.
func pdfEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == '(' || r == ')':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
