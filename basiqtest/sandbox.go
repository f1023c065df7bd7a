package basiqtest

// The sandbox's bank side (Basiq's Testing page): which logins exist, with which
// password, who they are, how their bank challenges them for MFA, and how the
// documented unhappy-path users fail.

// login is someone who can log in to the fake banks.
type login struct {
	id        string
	password  string
	profile   profile
	challenge mfaChallenge // used on institutions that ask for MFA
}

// mfaChallenge is what a bank asks during mfa-challenge, and the answer.
type mfaChallenge struct {
	method      string // "token" or "security-questions"
	description string
	input       []string
	answers     []string
}

// profile is the account holder the bank reports on a connection.
type profile struct {
	first, middle, last string
	email, phone        string
	street, city, state string
	postcode            string
}

func (p profile) fullName() string {
	switch {
	case p.first == "":
		return p.last
	case p.middle == "":
		return p.first + " " + p.last
	default:
		return p.first + " " + p.middle + " " + p.last
	}
}

func tokenChallenge() mfaChallenge {
	return mfaChallenge{
		method:      "token",
		description: "Please enter the one-time password we sent to your mobile.",
		input:       []string{"OTP Password"},
		answers:     []string{"1234"},
	}
}

func companyQuestion() mfaChallenge {
	return mfaChallenge{
		method:      "security-questions",
		description: "Please answer the security question.",
		input:       []string{"What's your first company?"},
		answers:     []string{"Hooli"},
	}
}

func twoQuestions() mfaChallenge {
	return mfaChallenge{
		method:      "security-questions",
		description: "Please answer the security questions.",
		input:       []string{"What is the name of your data aggregator?", "What is your bank's institution id?"},
		answers:     []string{"Basiq", "AU00000"},
	}
}

// sandboxLogins returns Basiq's documented sandbox logins.
func sandboxLogins() []*login {
	return []*login{
		{id: "Wentworth-Smith", password: "whislter", challenge: twoQuestions(), profile: profile{
			first: "Max", last: "Wentworth-Smith", email: "maxsmith@gmail.com", phone: "0405345555",
			street: "13/91 Fisher Road", city: "Dee Why", state: "NSW", postcode: "2099"}},
		{id: "Whistler", password: "ShowBox", challenge: twoQuestions(), profile: profile{
			first: "Ben", last: "Whistler", email: "ben.whistler@example.com", phone: "0412555101",
			street: "4 Ocean Street", city: "Bondi", state: "NSW", postcode: "2026"}},
		{id: "Gilfoyle", password: "PiedPiper", challenge: companyQuestion(), profile: profile{
			first: "Bertram", last: "Gilfoyle", email: "gilfoyle@piedpiper.com", phone: "0412555102",
			street: "5230 Newell Road", city: "Melbourne", state: "VIC", postcode: "3000"}},
		{id: "gavinBelson", password: "hooli2016", challenge: companyQuestion(), profile: profile{
			first: "Gavin", last: "Belson", email: "gavin@hooli.com", phone: "0410888666",
			street: "1 Hooli Way", city: "Sydney", state: "NSW", postcode: "2000"}},
		{id: "jared", password: "django", challenge: tokenChallenge(), profile: profile{
			first: "Donald", middle: "Jared", last: "Dunn", email: "jared@piedpiper.com", phone: "0412555103",
			street: "22 Chapel Street", city: "Windsor", state: "VIC", postcode: "3181"}},
		{id: "richard", password: "tabsnotspaces", challenge: tokenChallenge(), profile: profile{
			first: "Richard", last: "Hendricks", email: "richard@piedpiper.com", phone: "0412555104",
			street: "5230 Newell Road", city: "Fitzroy", state: "VIC", postcode: "3065"}},
		{id: "laurieBream", password: "business2024", challenge: tokenChallenge(), profile: profile{
			first: "Laurie", last: "Bream", email: "laurie@raviga.com", phone: "0412555105",
			street: "100 George Street", city: "Sydney", state: "NSW", postcode: "2000"}},
		{id: "ashMann", password: "hooli2024", challenge: tokenChallenge(), profile: profile{
			first: "Ash", last: "Mann", email: "ash.mann@example.com", phone: "0412555106",
			street: "8 Queen Street", city: "Brisbane", state: "QLD", postcode: "4000"}},
		{id: "bighead", password: "password", challenge: tokenChallenge(), profile: profile{
			first: "Nelson", last: "Bighetti", email: "bighead@hooli.com", phone: "0412555107",
			street: "12 Beach Road", city: "Manly", state: "NSW", postcode: "2095"}},
		{id: "erlich", password: "aviato", challenge: tokenChallenge(), profile: profile{
			first: "Erlich", last: "Bachman", email: "erlich@aviato.com", phone: "0412555108",
			street: "5230 Newell Road", city: "Newtown", state: "NSW", postcode: "2042"}},
		{id: "jianYang", password: "nothotdog", challenge: tokenChallenge(), profile: profile{
			first: "Jian", last: "Yang", email: "jianyang@seefood.com", phone: "0412555109",
			street: "5230 Newell Road", city: "Newtown", state: "NSW", postcode: "2042"}},
	}
}

// sandboxFailures returns how the documented unhappy-path users fail. The
// steps are the fake's choice (Basiq does not document them); WithFailureStep
// changes them.
func sandboxFailures() map[string]Outcome {
	return map[string]Outcome{
		"bighead":  outcomeFor(StepVerifyCredentials, "invalid-credentials", "Account is locked"),
		"erlich":   outcomeFor(StepRetrieveAccounts, "account-not-accessible-requires-user-action", ""),
		"jianYang": outcomeFor(StepRetrieveTransactions, "service-unavailable", ""),
	}
}

// outcomeFor builds a failure at step with code, using the code's usual title
// and, when detail is empty, its usual detail.
func outcomeFor(step, code, detail string) Outcome {
	return Outcome{Step: step, Code: code, Detail: detail}.withDefaults()
}

// withDefaults fills in an empty Title or Detail with Basiq's usual text for
// o.Code.
func (o Outcome) withDefaults() Outcome {
	if o.Code == "" {
		return o
	}
	var title, detail string
	switch o.Code {
	case "invalid-credentials":
		title = "Cannot login to target institution, check credentials."
		detail = "Cannot login to target institution using supplied credentials. Please check credentials and try again."
	case "account-not-accessible-requires-user-action":
		title = "Account not accessible"
		detail = "An action is required from end-user before account details can be returned."
	case "service-unavailable":
		title = "Service unavailable"
		detail = "Service is currently unavailable. Please try again later."
	case "user-action-required":
		title = "User action required"
		detail = "The end-user must log in to their internet banking and complete the action it asks for."
	case "maintenance":
		title = "Institution under maintenance"
		detail = "Requested resource is currently unavailable due to maintenance on Institution's side."
	default:
		title = "Job step failed"
		detail = "The step failed with " + o.Code + "."
	}
	if o.Title == "" {
		o.Title = title
	}
	if o.Detail == "" {
		o.Detail = detail
	}
	return o
}
