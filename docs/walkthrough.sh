#!/usr/bin/env bash
# The life of a permission, as one script (docs/api.md explains each step): the commands in
# order, plus `| expect '<jq test>'` after the answers whose content matters, so a wrong answer
# stops the script.
#
# Needs a running ledger with a fresh store (the usernames are fixed) and this shell pointed at
# the same store, because the first admin key is made with the `ledger` command:
#
#   export LEDGER_SQLITE_PATH=/tmp/walkthrough.sqlite      # the server's store
#   make run                                               # in another terminal, same variable
#   docs/walkthrough.sh                                    # LEDGER=http://127.0.0.1:8000
#
# Set REVOKE_VIA=management to revoke through POST /v1/tokens/{token_id}/revoke, or REVOKE_VIA=user
# for Uma to revoke it herself through POST /v1/me/tokens/revoke, instead of the client's RFC 7009
# endpoint.
set -euo pipefail
cd "$(dirname "$0")/.."

LEDGER=${LEDGER:-http://127.0.0.1:8000}
REVOKE_VIA=${REVOKE_VIA:-oauth}

# Prints standard input and fails unless the jq test (options first, if any) holds for it.
expect() {
  local body
  body=$(cat)
  printf '%s\n' "$body"
  if ! jq -e "$@" >/dev/null <<<"$body"; then
    echo "walkthrough: expected $*" >&2
    exit 1
  fi
}

echo "== 1. The first admin key"
ADMIN_KEY=$(.venv/bin/ledger keys create --name "walkthrough admin" --role admin)

echo "== 2. Users: a developer and a user, with passwords"
curl -sS --fail-with-body -w '\n' -X POST "$LEDGER/v1/users" \
  -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"username": "dana_dev", "full_name": "Dana Developer"}'
curl -sS --fail-with-body -w '\n' -X PUT "$LEDGER/v1/users/dana_dev/password" \
  -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"password": "dana-walkthrough-pw"}'
curl -sS --fail-with-body -w '\n' -X POST "$LEDGER/v1/users" \
  -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"username": "uma_user", "full_name": "Uma User"}'
curl -sS --fail-with-body -w '\n' -X PUT "$LEDGER/v1/users/uma_user/password" \
  -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"password": "uma-walkthrough-pw"}'

echo "== 3. A developer key for Dana"
DEV_KEY=$(curl -sS --fail-with-body -X POST "$LEDGER/v1/api-keys" \
  -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"name": "dana laptop", "role": "developer", "principal": "dana_dev"}' | jq -er .key)

echo "== 4. Dana registers an app"
APP=$(curl -sS --fail-with-body -X POST "$LEDGER/v1/apps" \
  -H "Authorization: Bearer $DEV_KEY" -H 'Content-Type: application/json' \
  -d '{"name": "Printer", "description": "Prints your photos",
       "website": "https://printer.example",
       "redirect_uris": ["https://printer.example/callback"],
       "company_name": "Printer Ltd", "contact_email": "dev@printer.example",
       "privacy_policy_url": "https://printer.example/privacy"}')
CLIENT_ID=$(jq -er .client_id <<<"$APP")
CLIENT_SECRET=$(jq -er .client_secret <<<"$APP")
REDIRECT_URI=https://printer.example/callback
echo "client_id=$CLIENT_ID"

echo "== 5. Uma becomes a sandbox user"
curl -sS --fail-with-body -w '\n' -X POST "$LEDGER/v1/apps/$CLIENT_ID/sandbox-users" \
  -H "Authorization: Bearer $DEV_KEY" -H 'Content-Type: application/json' \
  -d '{"username": "uma_user"}'
curl -sS --fail-with-body -w '\n' -X POST "$LEDGER/v1/me/sandbox-invitations/$CLIENT_ID/accept" \
  -u uma_user:uma-walkthrough-pw
curl -sS --fail-with-body "$LEDGER/v1/me" -u uma_user:uma-walkthrough-pw \
  | jq -c '{username, sandbox_apps}' \
  | expect --arg c "$CLIENT_ID" '.username == "uma_user" and .sandbox_apps == [{client_id: $c, name: "Printer"}]'
curl -sS -o /dev/null -w '%{http_code} %header{www-authenticate}\n' "$LEDGER/v1/me" \
  -u uma_user:not-her-password | expect -R '. == "401 Basic realm=\"ledger users\""'

echo "== 6. Uma authorizes the app (authorization code flow, without a browser)"
STATE=walkthrough
AUTHORIZE_PATH="/oauth/authorize?client_id=$CLIENT_ID&redirect_uri=https%3A%2F%2Fprinter.example%2Fcallback&response_type=code&scope=basic&state=$STATE"
echo "open in a browser: $LEDGER$AUTHORIZE_PATH"
JAR=$(mktemp)
CSRF=$(curl -sS --fail-with-body -c "$JAR" -b "$JAR" "$LEDGER$AUTHORIZE_PATH" \
  | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p')
curl -sS --fail-with-body -c "$JAR" -b "$JAR" -o /dev/null -w '%{http_code} %{redirect_url}\n' \
  "$LEDGER/oauth/signin" --data-urlencode "csrf_token=$CSRF" \
  --data-urlencode "next=$AUTHORIZE_PATH" \
  --data-urlencode username=uma_user --data-urlencode password=uma-walkthrough-pw
CSRF=$(curl -sS --fail-with-body -c "$JAR" -b "$JAR" "$LEDGER$AUTHORIZE_PATH" \
  | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p')
CALLBACK=$(curl -sS --fail-with-body -c "$JAR" -b "$JAR" -o /dev/null -w '%{redirect_url}' \
  "$LEDGER/oauth/authorize" --data-urlencode "client_id=$CLIENT_ID" \
  --data-urlencode "redirect_uri=$REDIRECT_URI" -d response_type=code -d scope=basic \
  -d "state=$STATE" --data-urlencode "csrf_token=$CSRF" -d decision=allow)
echo "$CALLBACK"
CODE=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$CALLBACK")
test -n "$CODE"

echo "== 7. The app exchanges the code for an access token"
ACCESS_TOKEN=$(curl -sS --fail-with-body -X POST "$LEDGER/oauth/access_token" \
  --data-urlencode "client_id=$CLIENT_ID" --data-urlencode "client_secret=$CLIENT_SECRET" \
  -d grant_type=authorization_code --data-urlencode "redirect_uri=$REDIRECT_URI" \
  --data-urlencode "code=$CODE" | jq -er .access_token)

echo "== 8. A gateway checks the token (sandbox)"
GATEWAY_KEY=$(curl -sS --fail-with-body -X POST "$LEDGER/v1/api-keys" \
  -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"name": "edge gateway", "role": "gateway"}' | jq -er .key)
curl -sS --fail-with-body -X POST "$LEDGER/v1/decisions/check" \
  -H "Authorization: Bearer $GATEWAY_KEY" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg t "$ACCESS_TOKEN" '{access_token: $t, scope: "basic"}')" \
  | jq -c '{allowed, mode, reason, position, constraints}' \
  | expect '.allowed == true and .mode == "sandbox"'
curl -sS --fail-with-body -X POST "$LEDGER/v1/decisions/check" \
  -H "Authorization: Bearer $GATEWAY_KEY" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg t "$ACCESS_TOKEN" '{access_token: $t, scope: "likes"}')" \
  | jq -c '{allowed, reason, error_type, message}' \
  | expect '.allowed == false and .reason == "scope_not_in_token"'

echo "== 9. Review: Dana submits, a reviewer approves"
REVIEW_ID=$(curl -sS --fail-with-body -X POST "$LEDGER/v1/apps/$CLIENT_ID/reviews" \
  -H "Authorization: Bearer $DEV_KEY" -H 'Content-Type: application/json' \
  -d '{"use_case": "own_content",
       "permissions": {"basic": "We print the photos users pick from their own media"},
       "screencast_url": "https://printer.example/screencast.mp4"}' | jq -er .review_id)
REVIEWER_KEY=$(curl -sS --fail-with-body -X POST "$LEDGER/v1/api-keys" \
  -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"name": "rita reviewer", "role": "reviewer"}' | jq -er .key)
curl -sS --fail-with-body -w '\n' -X POST "$LEDGER/v1/reviews/$REVIEW_ID/decisions" \
  -H "Authorization: Bearer $REVIEWER_KEY" -H 'Content-Type: application/json' \
  -d '{"scope": "basic", "approve": true, "reason": "login and photo picker shown in the screencast"}'
curl -sS --fail-with-body "$LEDGER/v1/reviews/$REVIEW_ID" -H "Authorization: Bearer $REVIEWER_KEY" \
  | jq -c '{decisions, completed}' | expect '.completed and .decisions.basic == "approved"'

echo "== 10. Dana switches the app to live mode"
LIVE_AT=$(curl -sS --fail-with-body -X POST "$LEDGER/v1/apps/$CLIENT_ID/go-live" \
  -H "Authorization: Bearer $DEV_KEY" | jq -er .position)
echo "live at position $LIVE_AT"

echo "== 11. The gateway checks again (live)"
curl -sS --fail-with-body -X POST "$LEDGER/v1/decisions/check" \
  -H "Authorization: Bearer $GATEWAY_KEY" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg t "$ACCESS_TOKEN" --argjson p "$LIVE_AT" \
        '{access_token: $t, scope: "basic", min_position: $p}')" \
  | jq -c '{allowed, mode, reason, position, constraints}' \
  | expect '.allowed == true and .mode == "live"'

echo "== 12. The token is revoked ($REVOKE_VIA)"
if [ "$REVOKE_VIA" = management ]; then
  TOKEN_ID=$(curl -sS --fail-with-body -G "$LEDGER/v1/lookups/token-holders" \
    -H "Authorization: Bearer $GATEWAY_KEY" --data-urlencode "client_id=$CLIENT_ID" \
    -d scope=basic | jq -er '.holders[] | select(.username == "uma_user") | .token_id')
  REVOKED_AT=$(curl -sS --fail-with-body -X POST "$LEDGER/v1/tokens/$TOKEN_ID/revoke" \
    -H "Authorization: Bearer $DEV_KEY" -H 'Content-Type: application/json' \
    -d '{"reason": "Uma asked us to disconnect her account"}' | jq -er .position)
elif [ "$REVOKE_VIA" = user ]; then
  REVOKED_AT=$(curl -sS --fail-with-body -X POST "$LEDGER/v1/me/tokens/revoke" \
    -u uma_user:uma-walkthrough-pw -H 'Content-Type: application/json' \
    -d "$(jq -n --arg t "$ACCESS_TOKEN" '{access_token: $t, reason: "I stopped printing"}')" \
    | jq -er .position)
else
  REVOKED_AT=$(curl -sS --fail-with-body -X POST "$LEDGER/oauth/revoke" \
    -u "$CLIENT_ID:$CLIENT_SECRET" --data-urlencode "token=$ACCESS_TOKEN" | jq -er .position)
fi
echo "revoked at position $REVOKED_AT"

echo "== 13. Checked again: denied, with the legacy platform's answer"
curl -sS --fail-with-body -X POST "$LEDGER/v1/decisions/check" \
  -H "Authorization: Bearer $GATEWAY_KEY" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg t "$ACCESS_TOKEN" '{access_token: $t, scope: "basic"}')" \
  | jq -c '{allowed, reason, error_type, http_status, message, fix}' \
  | expect '.allowed == false and .reason == "token_revoked"
            and .message == "The access_token provided is invalid."'
curl -sS -w '\n%{http_code}\n' -X POST "$LEDGER/v1/decisions/gate" \
  -H "Authorization: Bearer $GATEWAY_KEY" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg t "$ACCESS_TOKEN" '{access_token: $t, method: "GET", path: "/v1/users/self"}')" \
  | expect -s '.[0].meta.error_type == "OAuthAccessTokenException" and .[1] == 400'

echo "== 14. Why: the evidence chain, and the answer just before the revocation"
curl -sS --fail-with-body -X POST "$LEDGER/v1/decisions/explain" \
  -H "Authorization: Bearer $GATEWAY_KEY" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg t "$ACCESS_TOKEN" '{access_token: $t, scope: "basic"}')" \
  | jq -r '.evidence[] | "\(.position)\t\(.link)\t\(.event_type)\t\(.actor) (\(.role)) \(.reason)"'
curl -sS --fail-with-body -X POST "$LEDGER/v1/decisions/explain" \
  -H "Authorization: Bearer $GATEWAY_KEY" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg t "$ACCESS_TOKEN" '{access_token: $t, scope: "basic"}')" \
  | jq -c '.failed_link | {position, event_type, actor, role, reason}' \
  | expect ".position == $REVOKED_AT and .event_type == \"AccessToken.Revoked\""
curl -sS --fail-with-body -X POST "$LEDGER/v1/decisions/check" \
  -H "Authorization: Bearer $GATEWAY_KEY" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg t "$ACCESS_TOKEN" --argjson p "$((REVOKED_AT - 1))" \
        '{access_token: $t, scope: "basic", as_of: $p}')" \
  | jq -c '{allowed, mode, reason, position}' \
  | expect '.allowed == true and .mode == "live"'

rm -f "$JAR"
echo "== walkthrough passed"
