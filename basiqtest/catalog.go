package basiqtest

// institution is one bank in the fake's catalogue. Its status is the only
// field that changes (Server.SetInstitutionStatus).
type institution struct {
	ID                      string
	Name                    string
	ShortName               string
	InstitutionType         string
	Country                 string
	ServiceName             string
	ServiceType             string
	LoginIDCaption          string
	PasswordCaption         string
	SecurityCodeCaption     string
	SecondaryLoginIDCaption string
	ForgottenPasswordURL    string
	Tier                    string
	Authorization           string // user, user-mfa, user-mfa-intermittent, …
	Stage                   string
	Status                  string
	Stats                   *durations // nil: stats.averageDurationMs is null
	OpenBanking             bool       // also has an open-banking connector
	Color                   string
}

// durations is stats.averageDurationMs, in milliseconds.
type durations struct {
	VerifyCredentials    int `json:"verifyCredentials"`
	RetrieveAccounts     int `json:"retrieveAccounts"`
	RetrieveTransactions int `json:"retrieveTransactions"`
	RetrieveMeta         int `json:"retrieveMeta"`
	Total                int `json:"total"`
}

// statsView reports d scaled by the time scale, so that a client reading an
// institution's averages sees the bank the fake simulates: with
// WithTimeScale(0.1), Hooli's verify-credentials averages 815 ms.
func (s *Server) statsView(d *durations) statsView {
	if d == nil || s.cfg.timeScale == 1 {
		return statsView{AverageDurationMs: d}
	}
	f := s.cfg.timeScale
	scale := func(ms int) int { return int(float64(ms)*f + 0.5) }
	scaled := durations{scale(d.VerifyCredentials), scale(d.RetrieveAccounts), scale(d.RetrieveTransactions),
		scale(d.RetrieveMeta), 0}
	scaled.Total = scaled.VerifyCredentials + scaled.RetrieveAccounts + scaled.RetrieveTransactions + scaled.RetrieveMeta
	return statsView{AverageDurationMs: &scaled}
}

func stats(verify, accounts, transactions, meta int) *durations {
	return &durations{verify, accounts, transactions, meta, verify + accounts + transactions + meta}
}

// hooliStats are Hooli's recorded averages, also used for institutions
// without stats.
func hooliStats() durations { return *stats(8154, 3820, 7127, 12487) }

// catalog returns a fresh copy of the fake's institutions: Basiq's four test
// banks and a spread of illustrative real-world ones (ids invented) across
// tiers, stages and statuses, so that status boards and filters have
// something to show.
func catalog() []*institution {
	personal := func(inst institution) *institution {
		if inst.InstitutionType == "" {
			inst.InstitutionType = "Bank"
		}
		if inst.Country == "" {
			inst.Country = "Australia"
		}
		if inst.ServiceName == "" {
			inst.ServiceName = "Personal Online Banking"
		}
		if inst.ServiceType == "" {
			inst.ServiceType = "Personal Banking"
		}
		if inst.LoginIDCaption == "" {
			inst.LoginIDCaption = "Login"
		}
		if inst.PasswordCaption == "" {
			inst.PasswordCaption = "Password"
		}
		if inst.Authorization == "" {
			inst.Authorization = "user"
		}
		if inst.Stage == "" {
			inst.Stage = "live"
		}
		if inst.Status == "" {
			inst.Status = "operational"
		}
		return &inst
	}
	hooli := hooliStats()
	return []*institution{
		personal(institution{ID: "AU00000", Name: "Hooli Bank", ShortName: "Hooli", InstitutionType: "Test Bank",
			Tier: "4", Stats: &hooli, Color: "#1e88e5"}),
		personal(institution{ID: "AU00002", Name: "Pied Piper Bank", ShortName: "Pied Piper", InstitutionType: "Test Bank",
			Tier: "4", Authorization: "user-mfa", Stats: stats(9012, 4105, 6930, 11870), Color: "#2e7d32"}),
		personal(institution{ID: "AU00003", Name: "Nucleus Bank", ShortName: "Nucleus", InstitutionType: "Test Bank",
			Tier: "4", Authorization: "user-mfa-intermittent", Stats: stats(8630, 3990, 7340, 12010), Color: "#6a1b9a"}),
		personal(institution{ID: "AU00004", Name: "HooliGov Bank", ShortName: "HooliGov", InstitutionType: "Test Bank",
			ServiceName: "Government Online Services", ServiceType: "Government Services",
			Tier: "4", Stats: stats(7710, 3560, 6815, 11950), Color: "#00838f"}),
		personal(institution{ID: "AU10001", Name: "Commonwealth Bank of Australia", ShortName: "CommBank",
			LoginIDCaption: "Client number", Tier: "1", Stats: stats(10240, 5310, 14820, 16400), OpenBanking: true,
			ForgottenPasswordURL: "https://www.commbank.com.au/digital-banking/netbank/forgotten-password.html", Color: "#ffcc00"}),
		personal(institution{ID: "AU10002", Name: "Australia and New Zealand Banking Group", ShortName: "ANZ",
			LoginIDCaption: "Customer Registration Number", Tier: "1", Authorization: "user-mfa-intermittent",
			Status: "degraded-performance", Stats: stats(12870, 6020, 17650, 19330), OpenBanking: true, Color: "#007dba"}),
		personal(institution{ID: "AU10003", Name: "Westpac Banking Corporation", ShortName: "Westpac",
			LoginIDCaption: "Customer ID", Tier: "1", Stats: stats(11020, 5480, 15210, 17960), OpenBanking: true, Color: "#d5002b"}),
		personal(institution{ID: "AU10004", Name: "National Australia Bank", ShortName: "NAB",
			LoginIDCaption: "NAB ID", Tier: "1", Status: "partial-outage", Stats: stats(9870, 4960, 13340, 15520),
			OpenBanking: true, Color: "#c20000"}),
		personal(institution{ID: "AU10005", Name: "St.George Bank", ShortName: "St.George",
			LoginIDCaption: "Customer Access Number", SecurityCodeCaption: "Security Number", Tier: "2",
			Stats: stats(13450, 6210, 16980, 18800), Color: "#78be20"}),
		personal(institution{ID: "AU10006", Name: "Macquarie Bank", ShortName: "Macquarie", Tier: "2",
			Authorization: "user-mfa", Stats: stats(9320, 4410, 12750, 14330), OpenBanking: true, Color: "#000000"}),
		personal(institution{ID: "AU10007", Name: "ING Australia", ShortName: "ING",
			LoginIDCaption: "Client Number", PasswordCaption: "Access Code", Tier: "2", Status: "under-maintenance",
			Stats: stats(8840, 4020, 11900, 13610), OpenBanking: true, Color: "#ff6200"}),
		personal(institution{ID: "AU10008", Name: "Bendigo Bank", ShortName: "Bendigo",
			LoginIDCaption: "Access ID", Tier: "2", Stats: stats(11760, 5630, 14470, 16020), Color: "#8a1538"}),
		personal(institution{ID: "AU10009", Name: "Bank of Queensland", ShortName: "BOQ",
			LoginIDCaption: "Customer Number", Tier: "3", Status: "major-outage", Stats: stats(14320, 6870, 18930, 20410),
			Color: "#1b365d"}),
		personal(institution{ID: "AU10010", Name: "Suncorp Bank", ShortName: "Suncorp",
			LoginIDCaption: "Customer ID", Tier: "2", Stage: "beta", Color: "#00a88f"}),
		personal(institution{ID: "AU10011", Name: "Great Southern Bank", ShortName: "Great Southern",
			LoginIDCaption: "Member Number", Tier: "3", Stage: "beta", Stats: stats(12100, 5940, 15830, 17260),
			Color: "#5c2d91"}),
		personal(institution{ID: "AU10012", Name: "People's Choice Credit Union", ShortName: "People's Choice",
			InstitutionType: "Credit Union", LoginIDCaption: "Member Number", SecondaryLoginIDCaption: "Card Number",
			Tier: "3", Stage: "alpha", Stats: stats(15040, 7110, 19880, 21300), Color: "#e4002b"}),
		personal(institution{ID: "AU10013", Name: "Heritage Bank", ShortName: "Heritage", InstitutionType: "Building Society",
			LoginIDCaption: "Member Number", Tier: "4", Status: "degraded-performance", Stats: stats(13670, 6550, 17120, 18940),
			Color: "#003b5c"}),
		personal(institution{ID: "AU10014", Name: "AustralianSuper", ShortName: "AustralianSuper",
			InstitutionType: "Superannuation", ServiceName: "Member Online", ServiceType: "Superannuation",
			LoginIDCaption: "Member Number", Tier: "4", Stats: stats(9450, 3870, 8760, 10020), Color: "#003da5"}),
		personal(institution{ID: "AU20700", Name: "myGov", ShortName: "myGov", InstitutionType: "Government",
			ServiceName: "myGov", ServiceType: "Government Services", LoginIDCaption: "Username or email",
			Tier: "4", Authorization: "user-mfa", Stats: stats(16200, 7400, 9800, 12300), Color: "#000000"}),
		personal(institution{ID: "NZ10001", Name: "ASB Bank", ShortName: "ASB", Country: "New Zealand",
			LoginIDCaption: "Client Number", Tier: "1", Stats: stats(10980, 5120, 14060, 15870), Color: "#ffdd00"}),
	}
}
