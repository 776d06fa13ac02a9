package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/textproto"
	"strings"

	"github.com/wneessen/go-mail"
)

// ErrPermanent is wrapped by send errors that retrying cannot fix: the
// server answered 5xx (a rejected recipient or sender, bad credentials, a
// refused message), or the settings do not match the server (no STARTTLS,
// no usable AUTH mechanism, a TLS certificate that does not verify).
var ErrPermanent = errors.New("permanent failure, retrying will not help: fix the address or the EMAIL_* settings")

// classify wraps err with ErrPermanent when it is permanent; temporary
// errors (4xx replies, network errors, timeouts) are returned as they are.
func classify(err error) error {
	if err == nil || !permanent(err) {
		return err
	}
	return fmt.Errorf("%w: %w", err, ErrPermanent)
}

// authMismatch are go-mail's errors for a server that offers no AUTH
// mechanism we will use.
var authMismatch = []error{
	mail.ErrNoSupportedAuthDiscovered,
	mail.ErrPlainAuthNotSupported,
	mail.ErrLoginAuthNotSupported,
	mail.ErrCramMD5AuthNotSupported,
	mail.ErrSCRAMSHA1AuthNotSupported,
	mail.ErrSCRAMSHA256AuthNotSupported,
}

// permanent decides whether err will recur on every retry.
func permanent(err error) bool {
	// A reply during MAIL, RCPT, DATA: go-mail's SendError carries the code.
	var se *mail.SendError
	if errors.As(err, &se) {
		switch code := se.ErrorCode(); {
		case code >= 500:
			return true
		case code >= 400:
			return false
		}
		switch se.Reason {
		case mail.ErrGetSender, mail.ErrGetRcpts, mail.ErrNoUnencoded:
			return true // a bad address or an 8-bit body the server refuses
		}
		return false // ErrConnCheck and the like: the connection went away
	}
	// A reply while connecting: greeting, EHLO, STARTTLS, AUTH (535).
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 500
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	// TLS that cannot work: a plain server on a TLS port, a certificate
	// that does not verify.
	var rh tls.RecordHeaderError
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &rh) || errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) {
		return true
	}
	for _, e := range authMismatch {
		if errors.Is(err, e) {
			return true
		}
	}
	// go-mail reports these two settings mismatches without a sentinel.
	msg := err.Error()
	return strings.Contains(msg, "does not support STARTTLS") || strings.Contains(msg, "server does not support SMTP AUTH")
}
