using System.Text.Json;
using BackendAI.Client;
using BackendAI.Client.Auth;

namespace BackendAI.Client.Tests.Auth;

/// <summary>Checklist client #3: the signatures of TV-1…TV-17 (auth-and-transport.md §3.4).</summary>
public class SigningVectorTests
{
    private const string AccessKey = "AKIAIOSFODNN7EXAMPLE";
    private const string SecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    public static TheoryData<string, string, string, string, string, string, string, string, string> Vectors() => new()
    {
        { "TV-1", "sha256", "GET", "/session/mysess?owner_access_key=AKIAOTHER", "2022-03-15T10:20:30.123456+00:00", "127.0.0.1:8081", "text/plain", "v6.20220315", "d550fde9ec31877e26169e90581d3d3f8549b047d6f05ffebf5272b9e9b93c6f" },
        { "TV-2", "sha256", "POST", "/session", "2022-03-15T10:20:30.123456+00:00", "127.0.0.1:8081", "application/json", "v6.20220315", "848be519dc49bc326efc748d5d2c9ae2ea0679d08abef668d1c2359028055cf0" },
        { "TV-3", "sha1", "GET", "/session/mysess?owner_access_key=AKIAOTHER", "2022-03-15T10:20:30.123456+00:00", "127.0.0.1:8081", "text/plain", "v6.20220315", "a58adbfac2cdab84efb72bb02ecc08372ba26396" },
        { "TV-4", "md5", "GET", "/session/mysess?owner_access_key=AKIAOTHER", "2022-03-15T10:20:30.123456+00:00", "127.0.0.1:8081", "text/plain", "v6.20220315", "0eb5ca136cf96521bc2cec8c59037db1" },
        { "TV-5", "sha512", "GET", "/session/mysess?owner_access_key=AKIAOTHER", "2022-03-15T10:20:30.123456+00:00", "127.0.0.1:8081", "text/plain", "v6.20220315", "9b70bea5e04834c89e72388944bf8ff25399d604051e85762b2714b56c2c7329ed1b13a5e62bc901c1d89803c9455fcfb5b30026712076839b9707026c463768" },
        { "TV-6", "sha256", "GET", "/stream/session/mysess/execute", "2022-03-15T10:20:30.123456+00:00", "127.0.0.1:8081", "application/octet-stream", "v6.20220315", "22469478bd9e09aa638457acc7f151379fdfa3fc6334a73c16feb42232a0868f" },
        { "TV-7", "sha256", "GET", "/events/session?sessionName=mysess&scope=*", "2022-03-15T10:20:30.123456+00:00", "127.0.0.1:8087", "application/octet-stream", "v6.20220315", "ab7c5361a539b3058d3d56ce8475ea8b85ea2f18f8ebae3687dc21993ae92272" },
        { "TV-8", "sha256", "GET", "/events/session?sessionName=my+sess&scope=*", "2022-03-15T10:20:30.123456+00:00", "127.0.0.1:8081", "text/plain", "v6.20220315", "4e20c748342f5e02b4a6254f27859459868147f25617b9a3fafbefb7e0bf4b6c" },
        { "TV-9", "sha256", "POST", "/session/mysess/upload", "2022-03-15T10:20:30.123456+00:00", "127.0.0.1:8081", "multipart/form-data", "v6.20220315", "d3d44e1da29285c22b1bb145e421615225458c5cdee98621584e282c9624b858" },
        { "TV-10", "sha256", "GET", "/session/mysess/files", "2022-03-15T10:20:30.123456+00:00", "127.0.0.1:8081", "application/json", "v6.20220315", "910387fd2a1b90e302ea16421736df79f6235f3fd63fa499affa629e7cd5a3f9" },
        { "TV-11", "sha256", "GET", "/api/folders/_/hosts", "2022-03-15T10:20:30.123456+00:00", "127.0.0.1:8081", "text/plain", "v6.20220315", "9d72929fadab7a911a8f38e288c6afee43d32c5d10b028073554573f5bd094de" },
        { "TV-12", "sha256", "DELETE", "/session/mysess?forced=true", "2022-03-15T10:20:30.123456+00:00", "api.backend.ai", "text/plain", "v6.20220315", "cd2b888a6b8434a70c6dc574de8d9757c38868dffd62b1ce16fdd3f3f5e5dc6c" },
        { "TV-13", "sha256", "GET", "/session/mysess", "2022-03-15T10:20:30.123456+00:00", "api.backend.ai", "text/plain", "v5.20191215", "a96b01b4c020eeb1a96ebd30ef138eb3daf1d3c1a2a18de8c3c96f129cad39b7" },
        { "TV-14", "sha256", "GET", "/", "Tue, 15 Mar 2022 10:20:30 GMT", "api.backend.ai", "application/octet-stream", "v6.20220315", "4ed4d3930a36d2622e19868f5324101467bdfa4cbb1172c5dc1d4b5135eed391" },
        { "TV-15", "sha256", "GET", "/folders", "2022-03-16T01:00:00+09:00", "api.backend.ai", "text/plain", "v6.20220315", "54f460b8ee859a9ce7cf8cf062a61ee1c7e1615c049458b72659d91f33fa8b63" },
        { "TV-16", "sha3_256", "GET", "/session/mysess", "2022-03-15T10:20:30.123456+00:00", "127.0.0.1:8081", "text/plain", "v6.20220315", "22f3ed6e5e72f5564fe6ca04787c6456b199bf1274d01de031854fb8259a57d7" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Client3_signature_matches_test_vector(string id, string hash, string method, string target, string date,
        string host, string contentType, string version, string expected)
    {
        Assert.True(SignatureHash.TryGet(hash, out var h), $"{id}: hash {hash} unavailable");
        var signer = new RequestSigner(AccessKey, SecretKey, h);
        var signature = signer.Sign(new SignatureInput(method, target, date, host, contentType, version));
        Assert.Equal(expected, signature);
    }

    [Fact]
    public void Client3_intermediate_keys_and_authorization_header_match_TV1()
    {
        var signer = new RequestSigner(AccessKey, SecretKey);
        var input = new SignatureInput("GET", "/session/mysess?owner_access_key=AKIAOTHER",
            "2022-03-15T10:20:30.123456+00:00", "127.0.0.1:8081", "text/plain", "v6.20220315");
        Assert.Equal(
            "BackendAI signMethod=HMAC-SHA256, credential=AKIAIOSFODNN7EXAMPLE:d550fde9ec31877e26169e90581d3d3f8549b047d6f05ffebf5272b9e9b93c6f",
            signer.Authorization(input));
        Assert.Equal("GET\n/session/mysess?owner_access_key=AKIAOTHER\n2022-03-15T10:20:30.123456+00:00\nhost:127.0.0.1:8081\n"
                     + "content-type:text/plain\nx-backendai-version:v6.20220315\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            signer.StringToSign(input));
        Assert.DoesNotContain(SecretKey, signer.ToString());
    }

    [Fact]
    public void Client4_date_is_iso8601_utc_with_microseconds()
    {
        var at = new DateTimeOffset(2022, 3, 15, 10, 20, 30, TimeSpan.Zero).AddTicks(1234560);
        Assert.Equal("2022-03-15T10:20:30.123456+00:00", RequestSigner.FormatDate(at));
        Assert.Equal("2022-03-15T10:20:30+00:00", RequestSigner.FormatDate(new DateTimeOffset(2022, 3, 15, 10, 20, 30, TimeSpan.Zero)));
    }

    [Fact]
    public void Empty_body_hashes_match_the_protocol_notes()
    {
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", SignatureHash.Sha256.EmptyBodyHash);
        Assert.Equal("da39a3ee5e6b4b0d3255bfef95601890afd80709", SignatureHash.Sha1.EmptyBodyHash);
        Assert.Equal("d41d8cd98f00b204e9800998ecf8427e", SignatureHash.Md5.EmptyBodyHash);
        _ = JsonSerializer.Serialize(ApiVersion.Current.ToString());
    }
}
