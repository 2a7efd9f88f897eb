package gen

import "testing"

func TestGoName(t *testing.T) {
	cases := map[string]string{
		"sessionId": "SessionID", "apiKey": "APIKey", "exec_result": "ExecResult", "shareUrl": "ShareURL",
		"followUp": "FollowUp", "utf8": "UTF8", "base64": "Base64", "ok": "OK", "lastHeartbeatAt": "LastHeartbeatAt",
		"HTTPServer": "HTTPServer", "get-skill": "GetSkill", "isEphemeral": "IsEphemeral", "42": "V42",
	}
	for in, want := range cases {
		if got := goName(in); got != want {
			t.Errorf("goName(%q) = %q, want %q", in, got, want)
		}
	}
}
