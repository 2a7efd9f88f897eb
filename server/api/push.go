package api

import (
	"errors"
	"net/http"

	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/push"
)

// errPushDisabled answers the push endpoints of a relay started without push.
var errPushDisabled = errorf(http.StatusServiceUnavailable, "Push notifications are disabled on this relay")

// pushError turns a refusal of the push service into a 400 with its message.
func pushError(err error) error {
	var ie *push.InputError
	if errors.As(err, &ie) {
		return errorf(http.StatusBadRequest, ie.Message)
	}
	return err
}

// vapidPublicKey is GET /api/push/vapid-public-key: the key browsers subscribe with (no
// credentials needed, as in PizzaPi).
func (a *api) vapidPublicKey(w http.ResponseWriter, _ *http.Request) error {
	if a.Push == nil {
		return errPushDisabled
	}
	writeJSON(w, http.StatusOK, &rest.PushPublicKeyResponse{PublicKey: a.Push.PublicKey()})
	return nil
}

// pushSubscribe is POST /api/push/subscribe: store this browser's subscription for the caller.
func (a *api) pushSubscribe(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	if a.Push == nil {
		return errPushDisabled
	}
	var req rest.PushSubscribeRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	sub, err := a.Push.Subscribe(r.Context(), u.ID, push.Subscription{
		Endpoint:      req.Endpoint,
		P256DH:        req.Keys.P256dh,
		Auth:          req.Keys.Auth,
		EnabledEvents: req.EnabledEvents.Or(""),
	})
	if err != nil {
		return pushError(err)
	}
	writeJSON(w, http.StatusOK, &rest.PushSubscribeResponse{OK: true, ID: sub.ID})
	return nil
}

// pushUnsubscribe is POST /api/push/unsubscribe: forget the caller's subscription of a browser.
func (a *api) pushUnsubscribe(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	if a.Push == nil {
		return errPushDisabled
	}
	var req rest.PushUnsubscribeRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	if _, err := a.Push.Unsubscribe(r.Context(), u.ID, req.Endpoint); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, &rest.OkResponse{OK: true})
	return nil
}

// pushSubscriptions is GET /api/push/subscriptions: the caller's subscriptions, without keys.
func (a *api) pushSubscriptions(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	if a.Push == nil {
		return errPushDisabled
	}
	subs, err := a.Push.Subscriptions(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := rest.PushSubscriptionsResponse{Subscriptions: make([]rest.PushSubscriptionInfo, 0, len(subs))}
	for _, s := range subs {
		out.Subscriptions = append(out.Subscriptions, rest.PushSubscriptionInfo{
			ID: s.ID, Endpoint: s.Endpoint, CreatedAt: live.FormatTime(s.CreatedAt), EnabledEvents: s.EnabledEvents,
		})
	}
	writeJSON(w, http.StatusOK, &out)
	return nil
}

// pushEvents is PUT /api/push/events: change the kinds a subscription of the caller receives.
func (a *api) pushEvents(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	if a.Push == nil {
		return errPushDisabled
	}
	var req rest.PushEventsRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	if _, err := a.Push.SetEvents(r.Context(), u.ID, req.Endpoint, req.EnabledEvents); err != nil {
		return pushError(err)
	}
	writeJSON(w, http.StatusOK, &rest.OkResponse{OK: true})
	return nil
}
