package basiq

import "context"

// diagnose runs Diagnose, first looking up the institution's current status
// when opts has none and the answer depends on it. *instID is the
// institution when known, and is stored back when found (see
// institutionStatus).
//
// The client's API version and the institution, when known, go into opts.
func (c *Client) diagnose(ctx context.Context, job *Job, opts DiagnoseOptions, instID *string) Diagnosis {
	if opts.APIVersion == "" {
		opts.APIVersion = c.version
	}
	if opts.InstitutionStatus == "" && statusMatters(job, opts) {
		opts.InstitutionStatus = c.institutionStatus(ctx, job, instID)
	}
	if opts.InstitutionID == "" {
		opts.InstitutionID = *instID
	}
	return Diagnose(job, opts)
}

// institutionStatus returns the current status of the job's institution (one
// GET /institutions/{id}, or on API 3.0 its connector's where that route is
// gone; cached for all pollers), or "" if it cannot be found. When *instID is empty the institution is found from the job's
// connection (one GET) and stored back.
func (c *Client) institutionStatus(ctx context.Context, job *Job, instID *string) InstitutionStatus {
	if *instID == "" {
		if user, conn := job.owner(); user != "" && conn != "" {
			if cn, err := c.connections.Get(ctx, user, conn); err == nil {
				*instID = cn.Institution.ID
			}
		}
	}
	if *instID == "" {
		return ""
	}
	inst, err := c.institutions.cached(ctx, *instID)
	if err != nil {
		return ""
	}
	return inst.Status
}

// statusMatters reports whether the institution's status changes the
// diagnosis of job: Diagnose's table is asked with the two
// statuses at its ends rather than restated here.
func statusMatters(job *Job, opts DiagnoseOptions) bool {
	opts.InstitutionStatus = StatusMajorOutage
	outage := Diagnose(job, opts)
	opts.InstitutionStatus = StatusOperational
	fine := Diagnose(job, opts)
	return outage.Action != fine.Action || outage.RetryAfter != fine.RetryAfter
}
