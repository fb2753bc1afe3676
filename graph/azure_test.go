package graph

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/jitflow/jitflow/internal/graphemu"
)

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestCredentialChosenByEnvironment(t *testing.T) {
	public, _ := LookupCloud("public")
	tests := []struct {
		name string
		kind string
		env  map[string]string
		want string
	}{
		{"secret", CredentialAuto, map[string]string{"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s3cr3t"}, CredentialClientSecret},
		{"certificate", CredentialAuto, map[string]string{"AZURE_CLIENT_CERTIFICATE_PATH": "/etc/jitflow/cert.pem"}, CredentialClientCertificate},
		{"workload identity", CredentialAuto, map[string]string{"AZURE_FEDERATED_TOKEN_FILE": "/var/run/token"}, CredentialWorkloadIdentity},
		{"nothing set", CredentialAuto, nil, CredentialDefault},
		{"explicit kind wins", CredentialManagedIdentity, map[string]string{"AZURE_CLIENT_SECRET": "s3cr3t"}, CredentialManagedIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := CredentialConfigFromEnv(CredentialConfig{Kind: tt.kind, Cloud: public}, envMap(tt.env))
			desc := cc.String()
			if !strings.HasPrefix(desc, tt.want+" credential") || !strings.Contains(desc, "cloud public") {
				t.Errorf("described as %q, want a %s credential in cloud public", desc, tt.want)
			}
			if strings.Contains(desc, "s3cr3t") {
				t.Errorf("description %q shows the secret", desc)
			}
		})
	}
}

func TestAuthorityHostFromEnvironment(t *testing.T) {
	china, err := LookupCloud("China")
	if err != nil {
		t.Fatal(err)
	}
	if china.Scope() != "https://microsoftgraph.chinacloudapi.cn/.default" || china.AuthorityHost != "https://login.chinacloudapi.cn/" {
		t.Errorf("china cloud %+v", china)
	}
	cc := CredentialConfigFromEnv(CredentialConfig{Cloud: china}, envMap(map[string]string{"AZURE_AUTHORITY_HOST": "https://login.example/"}))
	if cc.Cloud.AuthorityHost != "https://login.example/" {
		t.Errorf("authority %q, want AZURE_AUTHORITY_HOST's", cc.Cloud.AuthorityHost)
	}
	if _, err := LookupCloud("mars"); err == nil || !strings.Contains(err.Error(), "public, usgov, usgov-dod, china") {
		t.Errorf("unknown cloud: %v", err)
	}
}

func TestNewCredentialNamesWhatIsMissing(t *testing.T) {
	public, _ := LookupCloud("public")
	tests := []struct {
		cc   CredentialConfig
		want string
	}{
		{CredentialConfig{Kind: CredentialClientSecret, ClientID: "c", ClientSecret: "s"}, "tenant id"},
		{CredentialConfig{Kind: CredentialClientSecret, TenantID: "t", ClientID: "c"}, "client secret (--client-secret-file or AZURE_CLIENT_SECRET)"},
		{CredentialConfig{Kind: CredentialClientCertificate, TenantID: "t", ClientID: "c"}, "certificate file"},
		{CredentialConfig{Kind: CredentialClientCertificate, TenantID: "t", ClientID: "c", CertificatePath: "/nonexistent/cert.pem"}, "no such file"},
		{CredentialConfig{Kind: "password"}, "use one of auto, client-secret"},
	}
	for _, tt := range tests {
		tt.cc.Cloud = public
		_, err := NewCredential(tt.cc)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewCredential(%s): %v, want an error naming %q", tt.cc, err, tt.want)
		}
	}
	for _, kind := range []string{CredentialClientSecret, CredentialManagedIdentity, CredentialDefault} {
		cc := CredentialConfig{Kind: kind, TenantID: "00000000-0000-4000-8000-000000000001", ClientID: "c", ClientSecret: "s", Cloud: public}
		if _, err := NewCredential(cc); err != nil {
			t.Errorf("NewCredential(%s): %v", kind, err)
		}
	}
}

// failingToken is a credential Entra refuses.
type failingToken struct{}

func (failingToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, errors.New("AADSTS7000215: Invalid client secret provided")
}

// claimsToken hands out an unsigned JWT with tenant, app and roles claims.
type claimsToken struct{}

func (claimsToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"tid":"tenant-1","appid":"app-1","roles":["RoleManagement.ReadWrite.Directory"]}`))
	return azcore.AccessToken{Token: "e30." + payload + ".sig", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestCheckReportsCredentialTenantAndAnswer(t *testing.T) {
	t.Run("token refused", func(t *testing.T) {
		env := newGraphEnv(t, Config{Credential: failingToken{}}, nil)
		_, err := env.pim.Check(context.Background(), "client-secret credential (tenant t1, client c1)", testGlobalReader)
		for _, want := range []string{"client-secret credential (tenant t1, client c1)", "AADSTS7000215", "/.default"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Check: %v; want it to mention %q", err, want)
			}
		}
	})
	t.Run("token accepted", func(t *testing.T) {
		env := newGraphEnv(t, Config{Credential: claimsToken{}}, nil)
		res, err := env.pim.Check(context.Background(), "test", testGlobalReader)
		if err != nil {
			t.Fatal(err)
		}
		if res.TenantID != "tenant-1" || res.AppID != "app-1" || len(res.Roles) != 1 || res.RoleName != "Global Reader" {
			t.Errorf("Check %+v", res)
		}
	})
	t.Run("permission refused", func(t *testing.T) {
		env := newGraphEnv(t, Config{Credential: claimsToken{}}, nil)
		if err := env.emu.InjectFault(graphemu.Fault{Status: http.StatusForbidden, Count: 1}); err != nil {
			t.Fatal(err)
		}
		_, err := env.pim.Check(context.Background(), "test", testGlobalReader)
		for _, want := range []string{"tenant tenant-1", "app app-1", "403", "Authorization_RequestDenied", "RoleManagement.ReadWrite.Directory", "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Check: %v; want it to mention %q", err, want)
			}
		}
	})
}
