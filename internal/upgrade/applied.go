package upgrade

import (
	"context"
	"fmt"

	version "github.com/hashicorp/go-version"

	"github.com/openim-supervisor/openim-supervisor/migrations"
)

// "Already applied" is decided here and nowhere else, in this order:
//  1. our state record: the data version (every step up to it is done) and
//     the steps done since (State.Done);
//  2. the step's own check against the target (migrations.Step.Applied):
//     OpenIM's markers (dataver, data_version) and golang-migrate's version
//     collection, so work done by OpenIM's tools or by another host is
//     recorded as already-applied, never redone;
//  3. for the data version itself when there is no state record: OpenIM's
//     markers (markerVersion), else --from.

// pending returns the steps with from < version <= to that the state record
// does not list as done.
func pending(all []migrations.Step, from, to *version.Version, st *State) []migrations.Step {
	var out []migrations.Step
	for _, s := range all {
		v := mustVersion(s.Version)
		if v.LessThanOrEqual(from) || v.GreaterThan(to) {
			continue
		}
		if st != nil && st.isDone(s.ID()) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// applied asks the target whether a pending step is done already.
func applied(ctx context.Context, s migrations.Step, env *migrations.Env) (bool, error) {
	if s.Applied == nil {
		return false, nil
	}
	ok, err := s.Applied(ctx, env)
	if err != nil {
		return false, fmt.Errorf("check whether %s is applied: %w", s.ID(), err)
	}
	return ok, nil
}

// markerVersion reads OpenIM's markers: seq 38 means 3.8.0, dataver 35 means
// 3.5.0; nil when there are none.
func markerVersion(ctx context.Context, env *migrations.Env) (*version.Version, error) {
	db, err := env.Mongo(ctx)
	if err != nil {
		return nil, err
	}
	v38, err := migrations.ReadMarker(ctx, db, migrations.Marker38Collection, migrations.Marker38Key)
	if err != nil {
		return nil, err
	}
	if v38 >= migrations.Marker38Value {
		return mustVersion("3.8.0"), nil
	}
	v35, err := migrations.ReadMarker(ctx, db, migrations.Marker35Collection, migrations.Marker35Key)
	if err != nil {
		return nil, err
	}
	if v35 >= migrations.Marker35Value {
		return mustVersion("3.5.0"), nil
	}
	return nil, nil
}

// detect finds the data version: our state record, else --from, else
// OpenIM's markers. st is the record as loaded by the caller (once).
func detect(ctx context.Context, st *State, o *Options, env *migrations.Env) (*version.Version, Source, error) {
	switch {
	case st.DataVersion != "":
		v, err := ParseVersion(st.DataVersion)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", StatePath(o.StateDir), err)
		}
		return v, SourceState, nil
	case o.From != "":
		v, err := ParseVersion(o.From)
		if err != nil {
			return nil, "", &RefusedError{Msg: fmt.Sprintf("--from: %v", err)}
		}
		return v, SourceFlag, nil
	}
	v, err := markerVersion(ctx, env)
	if err != nil {
		return nil, "", &RefusedError{Msg: fmt.Sprintf("cannot tell which OpenIM version the data is at "+
			"(no state record in %s, no --from, and OpenIM's markers could not be read: %v); pass --from VERSION", o.StateDir, err)}
	}
	if v == nil {
		return nil, "", &RefusedError{Msg: fmt.Sprintf("cannot tell which OpenIM version the data is at "+
			"(no state record in %s, no --from, no OpenIM markers in MongoDB); pass --from VERSION (e.g. --from 3.4.2)", o.StateDir)}
	}
	return v, SourceMarkers, nil
}
