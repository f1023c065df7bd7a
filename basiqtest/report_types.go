package basiqtest

import (
	"net/http"
	"slices"
)

// Report types (GET /reports/types, /reports/types/{reportTypeId}): the two
// of REP's example, with their filters.

// Report type ids.
const (
	reportAffordability = "CON_AFFOR_01"
	reportStatement     = "STATEMENT_01"
)

// reportTypeFilter is a filter a report type takes.
type reportTypeFilter struct {
	name, typ string // typ: "string" or "array"
	required  bool
}

// reportType is a report the fake can create.
type reportType struct {
	id, name, description string
	filters               []reportTypeFilter
	unlisted              []string // filters it also takes, though its listing omits them
}

// takes reports whether the type takes a filter of that name.
func (t *reportType) takes(name string) bool {
	return slices.Contains(t.unlisted, name) ||
		slices.ContainsFunc(t.filters, func(d reportTypeFilter) bool { return d.name == name })
}

// reportTypeByID returns the report type with that id, or nil.
func reportTypeByID(id string) *reportType {
	switch id {
	case reportAffordability:
		return &reportType{id: id, name: "Consumer Affordability Report",
			description: "In depth consumer affordability assessment.",
			filters: []reportTypeFilter{{"fromDate", "string", true}, {"toDate", "string", true},
				{"accounts", "array", true}, {"users", "array", true},
				{"includeGroups", "array", false}, {"includeMetrics", "array", false}}}
	case reportStatement:
		return &reportType{id: id, name: "Bank Statement",
			description: "Generates a bank statement for a specified account and date range, providing transaction " +
				"details, balances, and more in a standard format.",
			filters:  []reportTypeFilter{{"fromDate", "string", true}, {"account", "string", true}, {"user", "string", true}},
			unlisted: []string{"toDate"}} // REP's STATEMENT_01 request example sends it; its type omits it
	}
	return nil
}

type reportTypeFilterView struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
}

// reportTypeView is the wire form of a report type.
type reportTypeView struct {
	Type        string                 `json:"type"`
	ID          string                 `json:"id"`
	Name        string                 `json:"name"`
	Description string                 `json:"description"`
	Filters     []reportTypeFilterView `json:"filters"`
}

func (t *reportType) view() reportTypeView {
	v := reportTypeView{Type: "report", ID: t.id, Name: t.name, Description: t.description}
	for _, f := range t.filters {
		v.Filters = append(v.Filters, reportTypeFilterView{Name: f.name, Type: f.typ, Required: f.required})
	}
	return v
}

// listReportTypes serves GET /reports/types.
func (s *Server) listReportTypes(*call) reply {
	data := []reportTypeView{reportTypeByID(reportAffordability).view(), reportTypeByID(reportStatement).view()}
	return jsonReply(http.StatusOK, struct {
		Type  string           `json:"type"`
		Count int              `json:"count"`
		Data  []reportTypeView `json:"data"`
	}{Type: "list", Count: len(data), Data: data})
}

// getReportType serves GET /reports/types/{reportTypeId}.
func (s *Server) getReportType(c *call) reply {
	t := reportTypeByID(c.param("reportTypeId"))
	if t == nil {
		return errorReply(http.StatusNotFound, errNotFound("Requested report type does not exist."))
	}
	return jsonReply(http.StatusOK, t.view())
}
