<?php
// The benchmark's user. exampleauth:StaticSource logs every request in as this one user, with
// no login form and no password check, so a login is one HTTP request, as it is for edgeidp
// behind jwt_authn. The manual calls it exampleauth:Static, but the 1.19 class is StaticSource.
// wrk keeps no cookies, so every request also starts and stores a new PHP session.
// The attributes are the demo user's (scripts/demo-config).
$config = [
    'admin' => ['core:AdminPassword'],
    'bench-user' => [
        'exampleauth:StaticSource',
        'email' => ['dana.reyes@example.com'],
        'given_name' => ['Dana'],
        'family_name' => ['Reyes'],
        'preferred_username' => ['dreyes'],
        'title' => ['Charge Nurse'],
    ],
];
