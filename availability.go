package basiq

import "context"

// Availability says whether an institution can be connected to now, for an
// onboarding screen to check before sending a user to connect.
type Availability struct {
	Institution *Institution
	// Advice is what Basiq's status board recommends for the current status;
	// Advice.Usable is false in a major outage, when Basiq recommends
	// deferring connections by 1 to 3 hours.
	Advice StatusAdvice
	// UserMessage is a sentence to show the user before they connect, or ""
	// when there is nothing to tell them.
	UserMessage string
}

// Availability fetches an institution's current status (cached for 5
// minutes, shared with the pollers) and says whether to send a user to
// connect to it now, and what to tell them if not. On API 3.0, where
// Basiq's published API has no /institutions, an institution that route
// does not serve (ErrUnsupportedVersion, or ErrNotFound) is read from its
// connector instead (GET /connectors/{id}/{method}: open-banking, then
// web); the pollers' timings and the Diagnosis read it the same way.
func (s *InstitutionsService) Availability(ctx context.Context, institutionID string) (*Availability, error) {
	inst, err := s.cached(ctx, institutionID)
	if err != nil {
		return nil, err
	}
	adv := inst.Status.Advice()
	a := &Availability{Institution: inst, Advice: adv}
	name := inst.ShortName
	if name == "" {
		name = inst.Name
	}
	if name == "" {
		name = "Your bank"
	}
	switch adv.Status {
	case StatusMajorOutage:
		a.UserMessage = name + " is having problems right now, so connecting is likely to fail. Please try again in an hour or two; we'll let you know when it's working again."
	case StatusPartialOutage:
		a.UserMessage = name + " is having some problems right now. You can connect, but it may take longer than usual, and we may need to try again later."
	}
	return a, nil
}
