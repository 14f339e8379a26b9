// Package adminapi holds the wire types of the embedded backend's admin API
// (see chaos/backend): the faults and client-token rotation settings its
// PUT endpoints take and answer, and the error body of every error answer.
// It imports only the standard library's encoding and text packages, so
// that the fleet events and the admin client in package chaos speak the
// admin API without linking the server.
package adminapi

// ErrorResponse is the JSON body of every error response.
type ErrorResponse struct {
	Errors []ErrorDetail `json:"errors"`
}

// ErrorDetail is one error of an ErrorResponse.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
