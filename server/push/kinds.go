package push

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/SherClockHolmes/webpush-go"

	"github.com/pizzapi/pizzapi/server/core"
)

// AllEvents is the enabled-events value that passes every kind.
const AllEvents = "*"

// wants reports whether a subscription's enabled events (AllEvents or a comma-separated list)
// pass kind: exact, case-sensitive names, spaces around the commas ignored (PizzaPi's rule).
func wants(enabled, kind string) bool {
	if enabled == AllEvents {
		return true
	}
	for part := range strings.SplitSeq(enabled, ",") {
		if strings.TrimSpace(part) == kind {
			return true
		}
	}
	return false
}

// NormalizeEvents checks an enabled-events value from a client and returns it in its stored
// form: AllEvents, or the known kinds it names, trimmed, each once, comma-separated.
func NormalizeEvents(s string) (string, error) {
	if strings.TrimSpace(s) == AllEvents {
		return AllEvents, nil
	}
	var kinds []string
	for part := range strings.SplitSeq(s, ",") {
		k := strings.TrimSpace(part)
		switch {
		case k == "":
			continue
		case k == AllEvents:
			return AllEvents, nil
		case !slices.Contains(core.NotifyKinds, k):
			return "", &InputError{Message: fmt.Sprintf("unknown notification kind %q in enabledEvents (known: *, %s)", k, strings.Join(core.NotifyKinds, ", "))}
		case !slices.Contains(kinds, k):
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return "", &InputError{Message: "enabledEvents names no notification kind (use \"*\" for all, or unsubscribe)"}
	}
	return strings.Join(kinds, ","), nil
}

// delivery is how long a push service keeps a kind of notification for an offline browser and
// how urgently it delivers it: a question or a failure is worth waking a phone for, a finished
// turn is worth a day, a session starting or ending only while it is news.
type delivery struct {
	ttl     time.Duration
	urgency webpush.Urgency
}

func deliveryOf(kind string) delivery {
	switch kind {
	case core.NotifyAgentNeedsInput, core.NotifyAgentError:
		return delivery{24 * time.Hour, webpush.UrgencyHigh}
	case core.NotifyAgentFinished:
		return delivery{24 * time.Hour, webpush.UrgencyNormal}
	default:
		return delivery{time.Hour, webpush.UrgencyLow}
	}
}
