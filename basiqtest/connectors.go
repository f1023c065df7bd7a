package basiqtest

import "net/http"

// Connector methods. Basiq spells open banking two ways (Basiq's connector documentation,
// open question 8): the 3.0 connector schema's method enum (DATA3) says
// "openbanking", the filter grammar and the 2.x documents "open-banking".
// The fake accepts both everywhere (GET /connectors/{id}/{method} and
// connector.method filters) and reports the method, in the method field and
// in links.self, as "openbanking" to 3.0 tokens and "open-banking" to 2.x
// ones. Internally it is methodOpenBanking.
const (
	methodWeb         = "web"
	methodOpenBanking = "open-banking"
)

// canonicalMethod puts a connector method in the fake's internal spelling.
func canonicalMethod(m string) string {
	if m == "openbanking" {
		return methodOpenBanking
	}
	return m
}

// methodName is how a method is spelt to a token of version.
func methodName(m, version string) string {
	if m == methodOpenBanking && version == "3.0" {
		return "openbanking"
	}
	return m
}

// connector is one (institution, method) pair.
type connector struct {
	inst   *institution
	method string
}

// connectorView is the wire form of a connector (GET /connectors/{id}/{method}).
type connectorView struct {
	Type          string            `json:"type"`
	ID            string            `json:"id"`
	Method        string            `json:"method"`
	Stage         string            `json:"stage"`
	Status        string            `json:"status"`
	Scopes        []string          `json:"scopes"`
	Authorization connectorAuthView `json:"authorization"`
	Institution   connectorInstView `json:"institution"`
	Stats         statsView         `json:"stats"`
	Links         selfLink          `json:"links"`
}

type connectorAuthView struct {
	Type string            `json:"type"`
	Meta map[string]string `json:"meta"`
}

type connectorInstView struct {
	Type      string   `json:"type"`
	Name      string   `json:"name"`
	ShortName string   `json:"shortName"`
	Tier      string   `json:"tier"`
	Country   string   `json:"country"`
	Logo      logoView `json:"logo"`
}

// connectors lists every connector, institution by institution.
func (s *Server) connectors() []connector {
	var out []connector
	for _, inst := range s.st.insts {
		out = append(out, connector{inst, methodWeb})
		if inst.OpenBanking {
			out = append(out, connector{inst, methodOpenBanking})
		}
	}
	return out
}

// authType is the connector's authorization.type: the institution's login
// kind on the web, "other" (the bank's consent flow) for open banking.
func (cn connector) authType() string {
	if cn.method == methodOpenBanking {
		return "other"
	}
	return cn.inst.Authorization
}

// connectorView renders cn for a token of version (which spells the
// open-banking method its own way).
func (s *Server) connectorView(cn connector, version string) connectorView {
	inst := cn.inst
	auth := connectorAuthView{Type: cn.authType(), Meta: map[string]string{
		"login_id_caption": inst.LoginIDCaption,
		"password_caption": inst.PasswordCaption,
	}}
	scopes := []string{"accounts", "transactions", "profile"}
	if cn.method == methodOpenBanking {
		auth.Meta = map[string]string{}
		scopes = []string{"bank:accounts.basic:read", "bank:transactions:read", "common:customer.basic:read"}
	} else {
		if inst.SecurityCodeCaption != "" {
			auth.Meta["security_code_caption"] = inst.SecurityCodeCaption
		}
		if inst.SecondaryLoginIDCaption != "" {
			auth.Meta["secondary_login_id_caption"] = inst.SecondaryLoginIDCaption
		}
		if inst.ForgottenPasswordURL != "" {
			auth.Meta["forgotten_password_url"] = inst.ForgottenPasswordURL
		}
	}
	return connectorView{
		Type:          "connector",
		ID:            inst.ID,
		Method:        methodName(cn.method, version),
		Stage:         inst.Stage,
		Status:        inst.Status,
		Scopes:        scopes,
		Authorization: auth,
		Institution: connectorInstView{
			Type:      inst.InstitutionType,
			Name:      inst.Name,
			ShortName: inst.ShortName,
			Tier:      inst.Tier,
			Country:   inst.Country,
			Logo:      logo(inst),
		},
		Stats: s.statsView(inst.Stats),
		Links: selfLink{Self: s.URL + "/connectors/" + inst.ID + "/" + methodName(cn.method, version)},
	}
}

// connectorFields are the filterable properties of GET /connectors.
func connectorFields() map[string]func(connector) string {
	return map[string]func(connector) string{
		"connector.id":                  func(c connector) string { return c.inst.ID },
		"connector.method":              func(c connector) string { return c.method },
		"connector.status":              func(c connector) string { return c.inst.Status },
		"connector.stage":               func(c connector) string { return c.inst.Stage },
		"connector.authorization.type":  connector.authType,
		"connector.institution.country": func(c connector) string { return c.inst.Country },
		"connector.institution.tier":    func(c connector) string { return c.inst.Tier },
		"connector.institution.type":    func(c connector) string { return c.inst.InstitutionType },
	}
}

// listConnectors serves GET /connectors.
func (s *Server) listConnectors(c *call) reply {
	keep, ok := compileFilterCanon(c.req.URL.Query().Get("filter"), connectorFields(),
		map[string]func(string) string{"connector.method": canonicalMethod})
	if !ok {
		return errorReply(http.StatusBadRequest, errBadFilter())
	}
	out := listView[connectorView]{Type: "list", Data: []connectorView{}, Links: selfLink{Self: s.URL + "/connectors"}}
	for _, cn := range s.connectors() {
		if keep(cn) {
			out.Data = append(out.Data, s.connectorView(cn, c.version()))
		}
	}
	out.TotalCount = len(out.Data)
	return jsonReply(http.StatusOK, out)
}

// getConnector serves GET /connectors/{connectorId}/{method}.
func (s *Server) getConnector(c *call) reply {
	method := canonicalMethod(c.param("method"))
	for _, cn := range s.connectors() {
		if cn.inst.ID == c.param("connectorId") && cn.method == method {
			return jsonReply(http.StatusOK, s.connectorView(cn, c.version()))
		}
	}
	return errorReply(http.StatusNotFound, errNotFound("Requested connector does not exist."))
}
