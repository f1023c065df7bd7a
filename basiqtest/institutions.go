package basiqtest

import (
	"errors"
	"net/http"
	"strings"
)

// institutionView is the wire form of an institution (GET /institutions/{id}).
type institutionView struct {
	Type                    string       `json:"type"`
	ID                      string       `json:"id"`
	Name                    string       `json:"name"`
	ShortName               string       `json:"shortName"`
	InstitutionType         string       `json:"institutionType"`
	Country                 string       `json:"country"`
	ServiceName             string       `json:"serviceName"`
	ServiceType             string       `json:"serviceType"`
	LoginIDCaption          string       `json:"loginIdCaption"`
	PasswordCaption         string       `json:"passwordCaption"`
	SecurityCodeCaption     string       `json:"securityCodeCaption,omitempty"`
	SecondaryLoginIDCaption string       `json:"secondaryLoginIdCaption,omitempty"`
	ForgottenPasswordURL    string       `json:"forgottenPasswordUrl,omitempty"`
	Tier                    string       `json:"tier"`
	Authorization           string       `json:"authorization"`
	Stage                   string       `json:"stage"`
	Status                  string       `json:"status"`
	Features                featuresView `json:"features"`
	Stats                   statsView    `json:"stats"`
	Logo                    logoView     `json:"logo"`
	Links                   selfLink     `json:"links"`
}

type featuresView struct {
	Login        []string            `json:"login"`
	MFAChallenge []string            `json:"mfaChallenge"`
	Accounts     map[string][]string `json:"accounts"`
	Profile      map[string][]string `json:"profile"`
	Transactions map[string][]string `json:"transactions"`
}

type statsView struct {
	AverageDurationMs *durations `json:"averageDurationMs"`
}

type logoView struct {
	Type   string            `json:"type"`
	Colors map[string]string `json:"colors,omitempty"`
	Links  logoLinks         `json:"links"`
}

type logoLinks struct {
	Full   string `json:"full"`
	Square string `json:"square"`
}

type selfLink struct {
	Self string `json:"self"`
}

// listView is Basiq's list wrapper with a totalCount (institutions,
// connectors).
type listView[T any] struct {
	Type       string   `json:"type"`
	TotalCount int      `json:"totalCount"`
	Data       []T      `json:"data"`
	Links      selfLink `json:"links"`
}

// features lists what the fake retrieves, all over the web method.
func features() featuresView {
	web := func(names ...string) map[string][]string {
		m := make(map[string][]string, len(names))
		for _, n := range names {
			m[n] = []string{"web"}
		}
		return m
	}
	return featuresView{
		Login:        []string{"web"},
		MFAChallenge: []string{"web"},
		Accounts:     web("accountNo", "name", "balance", "availableFunds", "currency", "accountHolder", "lastUpdated", "meta"),
		Profile:      web("fullName", "firstName", "lastName", "middleName", "emailAddresses", "phoneNumbers", "physicalAddresses"),
		Transactions: web("amount", "balance", "class", "date", "description", "status"),
	}
}

func logo(inst *institution) logoView {
	return logoView{
		Type:   "image",
		Colors: map[string]string{"primary": inst.Color},
		Links: logoLinks{
			Full:   "https://d388vpyfrt4zrj.cloudfront.net/" + inst.ID + "-full.svg",
			Square: "https://d388vpyfrt4zrj.cloudfront.net/" + inst.ID + ".svg",
		},
	}
}

func (s *Server) institutionURL(id string) string { return s.URL + "/institutions/" + id }

func (s *Server) institutionView(inst *institution) institutionView {
	return institutionView{
		Type:                    "institution",
		ID:                      inst.ID,
		Name:                    inst.Name,
		ShortName:               inst.ShortName,
		InstitutionType:         inst.InstitutionType,
		Country:                 inst.Country,
		ServiceName:             inst.ServiceName,
		ServiceType:             inst.ServiceType,
		LoginIDCaption:          inst.LoginIDCaption,
		PasswordCaption:         inst.PasswordCaption,
		SecurityCodeCaption:     inst.SecurityCodeCaption,
		SecondaryLoginIDCaption: inst.SecondaryLoginIDCaption,
		ForgottenPasswordURL:    inst.ForgottenPasswordURL,
		Tier:                    inst.Tier,
		Authorization:           inst.Authorization,
		Stage:                   inst.Stage,
		Status:                  inst.Status,
		Features:                features(),
		Stats:                   s.statsView(inst.Stats),
		Logo:                    logo(inst),
		Links:                   selfLink{Self: s.institutionURL(inst.ID)},
	}
}

// institutionFields are the filterable properties of GET /institutions.
func institutionFields() map[string]func(*institution) string {
	return map[string]func(*institution) string{
		"institution.id":              func(i *institution) string { return i.ID },
		"institution.status":          func(i *institution) string { return i.Status },
		"institution.stage":           func(i *institution) string { return i.Stage },
		"institution.tier":            func(i *institution) string { return i.Tier },
		"institution.country":         func(i *institution) string { return i.Country },
		"institution.authorization":   func(i *institution) string { return i.Authorization },
		"institution.serviceType":     func(i *institution) string { return i.ServiceType },
		"institution.institutionType": func(i *institution) string { return i.InstitutionType },
	}
}

// listInstitutions serves GET /institutions.
func (s *Server) listInstitutions(c *call) reply {
	keep, ok := compileFilter(c.req.URL.Query().Get("filter"), institutionFields())
	if !ok {
		return errorReply(http.StatusBadRequest, errBadFilter())
	}
	out := listView[institutionView]{Type: "list", Data: []institutionView{}, Links: selfLink{Self: s.URL + "/institutions"}}
	for _, inst := range s.st.insts {
		if keep(inst) {
			out.Data = append(out.Data, s.institutionView(inst))
		}
	}
	out.TotalCount = len(out.Data)
	return jsonReply(http.StatusOK, out)
}

// getInstitution serves GET /institutions/{institutionId}.
func (s *Server) getInstitution(c *call) reply {
	inst := s.st.instByID[c.param("institutionId")]
	if inst == nil {
		return errorReply(http.StatusNotFound, errNotFound("Requested institution does not exist."))
	}
	return jsonReply(http.StatusOK, s.institutionView(inst))
}

// SetInstitutionStatus changes the status an institution and its connectors
// report, e.g. "major-outage" or "operational". Any non-empty status is
// accepted, so clients can be tested against values they do not know. It is
// informational: jobs keep running as before (make them fail with
// SetLoginOutcome).
func (s *Server) SetInstitutionStatus(institutionID, status string) error {
	if strings.TrimSpace(status) == "" {
		return errors.New("basiqtest: empty institution status")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.st.instByID[institutionID]
	if inst == nil {
		return errors.New("basiqtest: unknown institution " + institutionID)
	}
	inst.Status = status
	return nil
}
